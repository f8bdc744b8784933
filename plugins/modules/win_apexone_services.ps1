#!powershell

# Copyright: (c) 2026, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil ansible_collections.ansible.windows.plugins.module_utils.SCManager
#AnsibleRequires -PowerShell ..module_utils._ApexOneCommon

Set-StrictMode -Version 2.0

$spec = @{
    options = @{
        services = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                name = @{ type = 'str'; required = $true }
                state = @{ type = 'str'; required = $true; choices = 'started', 'stopped' }
                start_mode = @{ type = 'str'; choices = 'auto', 'delayed', 'manual', 'disabled' }
            }
        }
        timeout = @{ type = 'int'; default = 180 }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$module.Result.changed = $false
$module.Result.services = @()

$startTypes = @{
    auto = [Ansible.Windows.SCManager.ServiceStartType]::AutoStart
    delayed = [Ansible.Windows.SCManager.ServiceStartType]::AutoStartDelayed
    manual = [Ansible.Windows.SCManager.ServiceStartType]::DemandStart
    disabled = [Ansible.Windows.SCManager.ServiceStartType]::Disabled
}
$readRights = [Ansible.Windows.SCManager.ServiceRights]'QueryConfig, QueryStatus, EnumerateDependents'
$timeoutSeconds = if ($module.Params.timeout -lt 1) { 1 } else { $module.Params.timeout }
$timeout = [TimeSpan]::FromSeconds($timeoutSeconds)

Function ConvertTo-StatusName {
    <#
    .SYNOPSIS
    The status word of a ServiceControllerStatus (running, stopped, start_pending, stop_pending, paused...).
    #>
    param ([object]$Status)

    switch ([string]$Status) {
        'Running' { 'running' }
        'Stopped' { 'stopped' }
        'StartPending' { 'start_pending' }
        'StopPending' { 'stop_pending' }
        'Paused' { 'paused' }
        'PausePending' { 'pause_pending' }
        'ContinuePending' { 'continue_pending' }
        default { ([string]$Status).ToLowerInvariant() }
    }
}

Function Get-ServiceController {
    <#
    .SYNOPSIS
    The ServiceController of a service by its exact service name (never a wildcard, never the display name).
    #>
    param ([string]$Name)

    # Get-Service -Name treats the name as a wildcard pattern and also matches display names: filter instead.
    @(Get-Service -ErrorAction SilentlyContinue | Where-Object { $_.ServiceName -eq $Name }) | Select-Object -First 1
}

Function Get-ServiceState {
    <#
    .SYNOPSIS
    @{ status; start_mode; dependents } of a service opened by its exact name with read rights; $null if missing.
    #>
    param ([string]$Name)

    try {
        $service = New-Object -TypeName Ansible.Windows.SCManager.Service -ArgumentList @($Name, $readRights)
    }
    catch [System.ComponentModel.Win32Exception] {
        # ServiceManagerException is a Win32Exception; 1060 is ERROR_SERVICE_DOES_NOT_EXIST (OpenServiceW).
        if ($_.Exception.NativeErrorCode -eq 1060) {
            return $null
        }
        throw
    }
    try {
        $controller = Get-ServiceController -Name $Name
        @{
            name = $service.ServiceName
            status = if ($null -ne $controller) { ConvertTo-StatusName -Status $controller.Status } else { $null }
            start_mode = ConvertTo-ApexOneStartMode -StartType $service.StartType
            dependents = @($service.DependedBy)
        }
    }
    finally {
        $service.Dispose()
    }
}

# --- read everything and check the whole list before changing anything ---------------------------------
$entries = @($module.Params.services)
$seen = @{}
$states = [ordered]@{}
foreach ($entry in $entries) {
    $name = $entry.name
    if ([string]::IsNullOrWhiteSpace($name)) {
        $module.FailJson('services: every entry needs a service name (the short name, e.g. ofcservice)')
    }
    if ($seen.ContainsKey($name)) {
        $module.FailJson("services: '$name' is listed twice; list each service once, in the order to apply")
    }
    $seen[$name] = $true
    try {
        $state = Get-ServiceState -Name $name
    }
    catch {
        $module.FailJson("Failed to read service '$name': $($_.Exception.Message)", $_)
    }
    if ($null -eq $state) {
        $module.FailJson("Service '$name' does not exist (names are matched exactly, as the service name, not the display name). Nothing was changed.")
    }
    $states[$name] = $state
}

$results = [System.Collections.Generic.List[hashtable]]@()
foreach ($entry in $entries) {
    $state = $states[$entry.name]
    $results.Add(@{
            name = $state.name
            before = @{ status = $state.status; start_mode = $state.start_mode }
            after = @{ status = $state.status; start_mode = $state.start_mode }
        })
}
$module.Result.services = $results

# Walk the list with the state it would produce: a stop with a running dependent that is not stopped earlier in
# the list, or a start of a service that would still be disabled, fails here, before the first change.
$projected = @{}
foreach ($name in $states.Keys) {
    $projected[$name] = @{ status = $states[$name].status; start_mode = $states[$name].start_mode }
}
$running = @('running', 'start_pending', 'continue_pending', 'pause_pending', 'paused', 'stop_pending')
foreach ($entry in $entries) {
    $name = $entry.name
    if (-not [string]::IsNullOrEmpty($entry.start_mode)) {
        $projected[$name].start_mode = $entry.start_mode
    }
    if ($entry.state -eq 'stopped' -and $running -contains $projected[$name].status) {
        $blocking = [System.Collections.Generic.List[string]]@()
        foreach ($dependent in $states[$name].dependents) {
            if ($projected.ContainsKey($dependent)) {
                $status = $projected[$dependent].status
            }
            else {
                $controller = Get-ServiceController -Name $dependent
                $status = if ($null -ne $controller) { ConvertTo-StatusName -Status $controller.Status } else { 'stopped' }
            }
            if ($status -ne 'stopped') {
                $blocking.Add($dependent)
            }
        }
        if ($blocking.Count -gt 0) {
            $msg = -join @(
                "Service '$name' cannot be stopped: the dependent service(s) $($blocking -join ', ') run and are not stopped "
                "before it in services. List them first (dependents first); this module never stops dependents implicitly. "
                "Nothing was changed."
            )
            $module.FailJson($msg)
        }
        $projected[$name].status = 'stopped'
    }
    elseif ($entry.state -eq 'started' -and $projected[$name].status -ne 'running') {
        if ($projected[$name].start_mode -eq 'disabled') {
            $msg = -join @(
                "Service '$name' cannot be started: its start type is Disabled. Give it a start_mode (auto, delayed or manual) "
                "in the same entry, which is applied before the start. Nothing was changed."
            )
            $module.FailJson($msg)
        }
        $projected[$name].status = 'running'
    }
}

$module.Diff.before = @{ services = @{} }
$module.Diff.after = @{ services = @{} }
foreach ($name in $states.Keys) {
    $module.Diff.before.services[$name] = @{ status = $states[$name].status; start_mode = $states[$name].start_mode }
    $module.Diff.after.services[$name] = @{ status = $projected[$name].status; start_mode = $projected[$name].start_mode }
}

# --- apply, in the order given: the start mode first, then the state --------------------------------------
for ($index = 0; $index -lt $entries.Count; $index++) {
    $entry = $entries[$index]
    $name = $entry.name
    $result = $results[$index]
    $mode = $entry.start_mode
    if (-not [string]::IsNullOrEmpty($mode) -and $result.after.start_mode -ne $mode) {
        if (-not $module.CheckMode) {
            try {
                $rights = [Ansible.Windows.SCManager.ServiceRights]'QueryConfig, ChangeConfig'
                $service = New-Object -TypeName Ansible.Windows.SCManager.Service -ArgumentList @($name, $rights)
                try {
                    $service.StartType = $startTypes[$mode]
                }
                finally {
                    $service.Dispose()
                }
            }
            catch {
                $module.FailJson("Failed to set the start type of service '$name' to $($mode): $($_.Exception.Message)", $_)
            }
        }
        $result.after.start_mode = $mode
        $module.Result.changed = $true
    }

    $controller = Get-ServiceController -Name $name
    if ($null -eq $controller) {
        $module.FailJson("Service '$name' disappeared while the services were being changed")
    }
    $status = ConvertTo-StatusName -Status $controller.Status
    if ($entry.state -eq 'stopped' -and $status -ne 'stopped') {
        if (-not $module.CheckMode) {
            # ServiceController.Stop() would stop running dependents too (what Stop-Service -Force does): check again
            # right before, so that it only ever stops this one service.
            $controller.Refresh()
            $runningDependents = @($controller.DependentServices | Where-Object {
                    $_.Refresh()
                    [string]$_.Status -ne 'Stopped'
                } | ForEach-Object { $_.ServiceName })
            if ($runningDependents.Count -gt 0) {
                $module.FailJson("Service '$name' was not stopped: its dependent service(s) $($runningDependents -join ', ') run. List them before it.")
            }
            try {
                if ([string]$controller.Status -ne 'StopPending') {
                    $controller.Stop()
                }
                # WaitForStatus takes a ServiceControllerStatus; PowerShell converts the name.
                $controller.WaitForStatus('Stopped', $timeout)
            }
            catch {
                $module.FailJson("Failed to stop service '$name' within $($timeout.TotalSeconds) seconds: $($_.Exception.Message)", $_)
            }
        }
        $result.after.status = 'stopped'
        $module.Result.changed = $true
    }
    elseif ($entry.state -eq 'started' -and $status -ne 'running') {
        if (-not $module.CheckMode) {
            try {
                if ([string]$controller.Status -eq 'Paused') {
                    $controller.Continue()
                }
                elseif ([string]$controller.Status -eq 'Stopped') {
                    $controller.Start()
                }
                $controller.WaitForStatus('Running', $timeout)
            }
            catch {
                $module.FailJson("Failed to start service '$name' within $($timeout.TotalSeconds) seconds: $($_.Exception.Message)", $_)
            }
        }
        $result.after.status = 'running'
        $module.Result.changed = $true
    }
}

$module.Result.services = $results
$module.ExitJson()
