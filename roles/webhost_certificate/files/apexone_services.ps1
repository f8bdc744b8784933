# apexone_services.ps1 - stop or start the Apex One services around knowledge-base step 7 (KA-0004491).
# Run by the apexone.certificates.webhost_certificate role through ansible.windows.win_powershell.
# Stops in the order given, starts in the reverse order, waits for each service, reports whether anything changed.
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)]
    [ValidateSet('stop', 'start')]
    [string]
    $Action,

    [Parameter(Mandatory = $true)]
    [string[]]
    $Names,

    [int]
    $TimeoutSeconds = 180
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$target = if ($Action -eq 'stop') { 'Stopped' } else { 'Running' }
$ordered = if ($Action -eq 'stop') { $Names } else { [array]::Reverse($Names); $Names }
$changed = $false
foreach ($name in $ordered) {
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        continue
    }
    if ($service.Status -ne $target) {
        if ($Action -eq 'stop') {
            Stop-Service -InputObject $service -Force
        }
        else {
            Start-Service -InputObject $service
        }
        $service.WaitForStatus($target, [TimeSpan]::FromSeconds($TimeoutSeconds))
        $changed = $true
    }
}
$Ansible.Changed = $changed
