# Copyright: (c) 2025, apexone.certificates maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
# It is not intended to be used by other collections; its functions may change without notice.
#
# Byte-exact edits of PCCSRV\WSS\Service.ini and PCCSRV\SRS\apricot_config (step 7, KA-0004491).
# This is the PowerShell twin of plugins/module_utils/_apexone_files.py: every function below
# mirrors the Python function of the same purpose line by line, with the same regular expressions
# ($script:ApexOneFilesPattern; the unit tests compare them with the Python constants) and the same
# error messages. Rules kept on purpose so that .NET and Python behave alike:
# - no -IgnoreCase / -match / -replace: [regex] is used with RegexOptions.None, and case-insensitive
#   ini keys are spelled as character classes ('[Hh][Tt]...');
# - string comparisons are ordinal and case-sensitive (-ceq / -cne), like Python '==';
# - files are decoded strictly (UTF-8 with BOM, UTF-16 LE/BE) or byte-transparently as Latin-1.
# Reference it from a module with:
#   #AnsibleRequires -PowerShell ..module_utils._ApexOneFiles

Set-StrictMode -Version 2.0

$script:ApexOneFilesPattern = @{
    LINE_RE = '[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+'
    NEWLINE_RE = '\r\n|\r|\n'
    INI_LINE_TEMPLATE = '^([ \t]*{key}[ \t]*=[ \t]*)(.*?)([ \t]*)$'
    INI_SECTION_RE = '^[ \t]*\[[^\]]*\][ \t]*$'
    INI_KEY_RE = '^[A-Za-z0-9_]+$'
    APRICOT_CN_RE = '<cert_cn[ \t\r\n]*>([^<]*)</cert_cn[ \t\r\n]*>|<cert_cn[ \t\r\n]*/>'
    APRICOT_FN_RE = '<cert_friendly_name[ \t\r\n]*>([^<]*)</cert_friendly_name[ \t\r\n]*>|<cert_friendly_name[ \t\r\n]*/>'
    FORBIDDEN_RE = '[\x00-\x1f\x7f-\x9f\u2028\u2029]'
    EDGE_BLANK_RE = '^[ \t]|[ \t]$'
    NON_ASCII_RE = '[^\x00-\x7f]'
}

Function Get-ApexOneFileEncoding {
    <#
    .SYNOPSIS
    Returns the strict System.Text.Encoding for a codec name of ConvertFrom-ApexOneFileContent.

    .PARAMETER Codec
    'utf-8', 'utf-16-le', 'utf-16-be' or 'latin-1'.

    .EXAMPLE
    Get-ApexOneFileEncoding -Codec 'utf-16-le'
    #>
    [CmdletBinding()]
    [OutputType([System.Text.Encoding])]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Codec
    )

    switch -CaseSensitive ($Codec) {
        'utf-8' { return New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true }
        'utf-16-le' { return New-Object -TypeName System.Text.UnicodeEncoding -ArgumentList $false, $false, $true }
        'utf-16-be' { return New-Object -TypeName System.Text.UnicodeEncoding -ArgumentList $true, $false, $true }
        'latin-1' {
            return [System.Text.Encoding]::GetEncoding(
                28591,
                [System.Text.EncoderFallback]::ExceptionFallback,
                [System.Text.DecoderFallback]::ExceptionFallback
            )
        }
    }
    throw [System.ArgumentException]"unknown codec '$Codec'"
}

Function ConvertFrom-ApexOneFileContent {
    <#
    .SYNOPSIS
    Decodes file bytes, remembering the encoding and the byte order mark (Python: decode_file).

    .DESCRIPTION
    Returns @{ text; codec; bom } where codec is 'utf-8' (UTF-8 BOM), 'utf-16-le' / 'utf-16-be' (BOM,
    or no BOM and a NUL in every other byte), or 'latin-1' (anything else, byte-transparent) and bom
    the byte order mark bytes (possibly empty). Throws an ArgumentException when the bytes are not
    valid in the detected encoding.

    .PARAMETER Data
    The file content.

    .EXAMPLE
    $file = ConvertFrom-ApexOneFileContent -Data ([System.IO.File]::ReadAllBytes($path))
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Data
    )

    if ($Data.Length -ge 3 -and $Data[0] -eq 0xEF -and $Data[1] -eq 0xBB -and $Data[2] -eq 0xBF) {
        $codec = 'utf-8'
        $bomLength = 3
    }
    elseif ($Data.Length -ge 2 -and $Data[0] -eq 0xFF -and $Data[1] -eq 0xFE) {
        $codec = 'utf-16-le'
        $bomLength = 2
    }
    elseif ($Data.Length -ge 2 -and $Data[0] -eq 0xFE -and $Data[1] -eq 0xFF) {
        $codec = 'utf-16-be'
        $bomLength = 2
    }
    elseif ([Array]::IndexOf($Data, [byte]0) -ge 0) {
        # UTF-16 without a byte order mark: ASCII text has a NUL in every other byte.
        if ($Data.Length -ge 2 -and $Data[0] -ne 0 -and $Data[1] -eq 0) {
            $codec = 'utf-16-le'
            $bomLength = 0
        }
        elseif ($Data.Length -ge 2 -and $Data[0] -eq 0 -and $Data[1] -ne 0) {
            $codec = 'utf-16-be'
            $bomLength = 0
        }
        else {
            throw [System.ArgumentException]'the file contains NUL bytes but is not UTF-16 text'
        }
    }
    else {
        $codec = 'latin-1'
        $bomLength = 0
    }
    $bom = New-Object -TypeName byte[] -ArgumentList $bomLength
    [Array]::Copy($Data, 0, $bom, 0, $bomLength)
    $encoding = Get-ApexOneFileEncoding -Codec $codec
    try {
        $text = $encoding.GetString($Data, $bomLength, $Data.Length - $bomLength)
    }
    catch {
        throw [System.ArgumentException]"the file is not valid $($codec.ToUpperInvariant()) text: $($_.Exception.Message)"
    }
    @{ text = $text; codec = $codec; bom = $bom }
}

Function ConvertTo-ApexOneFileContent {
    <#
    .SYNOPSIS
    Encodes text the way ConvertFrom-ApexOneFileContent found it (Python: encode_file).

    .PARAMETER Text
    The new file text.

    .PARAMETER Codec
    The codec of the original file.

    .PARAMETER Bom
    The byte order mark of the original file (may be empty).

    .EXAMPLE
    $bytes = ConvertTo-ApexOneFileContent -Text $text -Codec $file.codec -Bom $file.bom
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text,

        [Parameter(Mandatory = $true)]
        [string]
        $Codec,

        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Bom
    )

    $encoding = Get-ApexOneFileEncoding -Codec $Codec
    try {
        $body = $encoding.GetBytes($Text)
    }
    catch {
        throw [System.ArgumentException]"the new content cannot be written as $($Codec.ToUpperInvariant()): $($_.Exception.Message)"
    }
    $out = New-Object -TypeName byte[] -ArgumentList ($Bom.Length + $body.Length)
    [Array]::Copy($Bom, 0, $out, 0, $Bom.Length)
    [Array]::Copy($body, 0, $out, $Bom.Length, $body.Length)
    , $out
}

Function Assert-ApexOneFileValue {
    <#
    .SYNOPSIS
    Refuses a value that would corrupt the file or could not be read back unchanged (Python: check_value).

    .PARAMETER Name
    The name used in the error message.

    .PARAMETER Value
    The value.

    .PARAMETER Codec
    The codec of the file the value goes into ('latin-1' allows ASCII only).

    .EXAMPLE
    Assert-ApexOneFileValue -Name 'HTTPS_CERT' -Value $name -Codec $file.codec
    #>
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true)]
        [string]
        $Name,

        [AllowNull()]
        [object]
        $Value,

        [Parameter(Mandatory = $true)]
        [string]
        $Codec
    )

    if ($Value -isnot [string]) {
        throw [System.ArgumentException]"$Name must be a string"
    }
    if ($Value -ceq '') {
        throw [System.ArgumentException]"$Name must not be empty"
    }
    if ([regex]::IsMatch($Value, $script:ApexOneFilesPattern.FORBIDDEN_RE)) {
        throw [System.ArgumentException]"$Name must not contain line breaks or other control characters"
    }
    if ([regex]::IsMatch($Value, $script:ApexOneFilesPattern.EDGE_BLANK_RE)) {
        throw [System.ArgumentException]"$Name must not start or end with white space"
    }
    if ($Codec -ceq 'latin-1' -and [regex]::IsMatch($Value, $script:ApexOneFilesPattern.NON_ASCII_RE)) {
        $msg = -join @(
            "$Name contains non-ASCII characters and the file has no byte order mark, "
            "so its code page is unknown"
        )
        throw [System.ArgumentException]$msg
    }
}

Function Get-ApexOneIniKeyPattern {
    <#
    .SYNOPSIS
    Case-insensitive pattern for an ini key, spelled with character classes (Python: key_pattern).

    .PARAMETER Key
    The key, letters, digits and underscores only: 'Ab_1' gives '[Aa][Bb]_1'.

    .EXAMPLE
    Get-ApexOneIniKeyPattern -Key 'HTTPS_CERT'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Key
    )

    if (-not [regex]::IsMatch($Key, $script:ApexOneFilesPattern.INI_KEY_RE) -or
        [regex]::IsMatch($Key, $script:ApexOneFilesPattern.FORBIDDEN_RE)) {
        throw [System.ArgumentException]"invalid ini key '$Key': only letters, digits and underscores are allowed"
    }
    $parts = foreach ($char in $Key.ToCharArray()) {
        if ([char]::IsLetter($char)) {
            '[' + [char]::ToUpperInvariant($char) + [char]::ToLowerInvariant($char) + ']'
        }
        else {
            [string]$char
        }
    }
    -join $parts
}

Function Split-ApexOneLine {
    <#
    .SYNOPSIS
    Splits text into lines that keep their terminators (Python: split_lines).

    .PARAMETER Text
    The text; joining the result gives it back.

    .EXAMPLE
    $lines = Split-ApexOneLine -Text $file.text
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Generic.List[string]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text
    )

    $lines = New-Object -TypeName 'System.Collections.Generic.List[string]'
    foreach ($match in [regex]::Matches($Text, $script:ApexOneFilesPattern.LINE_RE)) {
        $lines.Add($match.Value)
    }
    , $lines
}

Function Get-ApexOneLineContent {
    <#
    .SYNOPSIS
    The line without its terminator (Python: line_content).

    .PARAMETER Line
    One line of Split-ApexOneLine.

    .EXAMPLE
    Get-ApexOneLineContent -Line "a=b`r`n"
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Line
    )

    $Line.TrimEnd([char[]]@([char]13, [char]10))
}

Function Get-ApexOneFirstNewline {
    <#
    .SYNOPSIS
    The first line terminator of the text, or CRLF when it has none (Python: first_newline).

    .PARAMETER Text
    The text.

    .EXAMPLE
    Get-ApexOneFirstNewline -Text $text
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text
    )

    $match = [regex]::Match($Text, $script:ApexOneFilesPattern.NEWLINE_RE)
    if ($match.Success) {
        return $match.Value
    }
    "`r`n"
}

Function Find-ApexOneIniKeyLine {
    <#
    .SYNOPSIS
    Index of the first line that sets the key, or -1 (Python: find_key_line).

    .PARAMETER Lines
    The lines of Split-ApexOneLine.

    .PARAMETER Key
    The key.

    .EXAMPLE
    Find-ApexOneIniKeyLine -Lines $lines -Key 'HTTPS_CERT'
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [System.Collections.Generic.List[string]]
        $Lines,

        [Parameter(Mandatory = $true)]
        [string]
        $Key
    )

    $pattern = $script:ApexOneFilesPattern.INI_LINE_TEMPLATE.Replace('{key}', (Get-ApexOneIniKeyPattern -Key $Key))
    for ($index = 0; $index -lt $Lines.Count; $index++) {
        if ([regex]::IsMatch((Get-ApexOneLineContent -Line $Lines[$index]), $pattern)) {
            return $index
        }
    }
    -1
}

Function Get-ApexOneIniContentValue {
    <#
    .SYNOPSIS
    The value of the first line of each key, $null when missing (Python: get_ini_values).

    .PARAMETER Data
    The ini file bytes.

    .PARAMETER Key
    The keys to read.

    .EXAMPLE
    Get-ApexOneIniContentValue -Data $bytes -Key 'HTTPS_CERT', 'HTTPS_CERT_FRIENDLY_NAME'
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Data,

        [Parameter(Mandatory = $true)]
        [string[]]
        $Key
    )

    $lines = Split-ApexOneLine -Text (ConvertFrom-ApexOneFileContent -Data $Data).text
    $result = @{}
    foreach ($name in $Key) {
        $pattern = $script:ApexOneFilesPattern.INI_LINE_TEMPLATE.Replace('{key}', (Get-ApexOneIniKeyPattern -Key $name))
        $result[$name] = $null
        foreach ($line in $lines) {
            $match = [regex]::Match((Get-ApexOneLineContent -Line $line), $pattern)
            if ($match.Success) {
                $result[$name] = $match.Groups[2].Value
                break
            }
        }
    }
    $result
}

Function Edit-ApexOneIniContent {
    <#
    .SYNOPSIS
    Sets key=value lines of an ini file, keeping every other byte (Python: set_ini_values).

    .DESCRIPTION
    Every line that sets a key gets the new value (indent, blanks around '=' and after the value are
    kept). A missing key is inserted right after the first line of the key before it in Values (so
    HTTPS_CERT_FRIENDLY_NAME lands under HTTPS_CERT, in the same section); a missing first key is
    appended at the end of the file only when the file has at most one section, otherwise this
    throws, because the right section is unknown. Line endings, encoding and byte order mark are
    kept. Returns Data itself when nothing changes. Nothing is written to disk.

    .PARAMETER Data
    The ini file bytes.

    .PARAMETER Values
    An ordered dictionary ([ordered]@{}) of key to value; the order decides where missing keys go.

    .EXAMPLE
    $new = Edit-ApexOneIniContent -Data $bytes -Values ([ordered]@{ HTTPS_CERT = 'a'; HTTPS_CERT_FRIENDLY_NAME = 'b' })
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Data,

        [Parameter(Mandatory = $true)]
        [System.Collections.Specialized.OrderedDictionary]
        $Values
    )

    $decoded = ConvertFrom-ApexOneFileContent -Data $Data
    foreach ($entry in $Values.GetEnumerator()) {
        $null = Get-ApexOneIniKeyPattern -Key $entry.Key
        Assert-ApexOneFileValue -Name $entry.Key -Value $entry.Value -Codec $decoded.codec
    }
    $text = $decoded.text
    $lines = Split-ApexOneLine -Text $text
    $previous = $null
    foreach ($entry in $Values.GetEnumerator()) {
        $key = [string]$entry.Key
        $value = [string]$entry.Value
        $pattern = $script:ApexOneFilesPattern.INI_LINE_TEMPLATE.Replace('{key}', (Get-ApexOneIniKeyPattern -Key $key))
        $found = $false
        for ($index = 0; $index -lt $lines.Count; $index++) {
            $line = $lines[$index]
            $content = Get-ApexOneLineContent -Line $line
            $match = [regex]::Match($content, $pattern)
            if ($match.Success) {
                $found = $true
                $lines[$index] = $match.Groups[1].Value + $value + $match.Groups[3].Value + $line.Substring($content.Length)
            }
        }
        if (-not $found) {
            $newLine = $key + '=' + $value
            if ($null -ne $previous) {
                $anchor = Find-ApexOneIniKeyLine -Lines $lines -Key $previous
            }
            else {
                $sections = 0
                foreach ($line in $lines) {
                    if ([regex]::IsMatch((Get-ApexOneLineContent -Line $line), $script:ApexOneFilesPattern.INI_SECTION_RE)) {
                        $sections++
                    }
                }
                if ($sections -gt 1) {
                    $msg = -join @(
                        "$key is not in the file and the file has $sections sections; "
                        "refusing to guess which section it belongs to"
                    )
                    throw [System.ArgumentException]$msg
                }
                $anchor = $lines.Count - 1
            }
            if ($anchor -lt 0) {
                # the file is empty
                $lines.Add($newLine + (Get-ApexOneFirstNewline -Text $text))
            }
            else {
                $anchorLine = $lines[$anchor]
                $terminator = $anchorLine.Substring((Get-ApexOneLineContent -Line $anchorLine).Length)
                if ($terminator -ceq '') {
                    # the anchor is the last line and has no terminator: keep the file unterminated
                    $lines[$anchor] = $anchorLine + (Get-ApexOneFirstNewline -Text $text)
                    $lines.Insert($anchor + 1, $newLine)
                }
                else {
                    $lines.Insert($anchor + 1, $newLine + $terminator)
                }
            }
        }
        $previous = $key
    }
    $newText = -join $lines
    if ($newText -ceq $text) {
        return , $Data
    }
    ConvertTo-ApexOneFileContent -Text $newText -Codec $decoded.codec -Bom $decoded.bom
}

Function ConvertTo-ApexOneXmlText {
    <#
    .SYNOPSIS
    Escapes text for an XML element: &, < and > in this order (Python: xml_escape).

    .PARAMETER Value
    The text.

    .EXAMPLE
    ConvertTo-ApexOneXmlText -Value 'R&D'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Value
    )

    $Value.Replace('&', '&amp;').Replace('<', '&lt;').Replace('>', '&gt;')
}

Function ConvertFrom-ApexOneXmlText {
    <#
    .SYNOPSIS
    Undoes ConvertTo-ApexOneXmlText, &amp; last (Python: xml_unescape).

    .PARAMETER Value
    The escaped text.

    .EXAMPLE
    ConvertFrom-ApexOneXmlText -Value 'R&amp;D'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Value
    )

    $Value.Replace('&lt;', '<').Replace('&gt;', '>').Replace('&amp;', '&')
}

Function Get-ApexOneApricotCert {
    <#
    .SYNOPSIS
    The text of the first cert_cn and cert_friendly_name elements of apricot_config (Python: get_apricot_cert).

    .DESCRIPTION
    Returns @{ cert_cn; cert_friendly_name }: $null when the element is missing, '' when it is empty.

    .PARAMETER Data
    The apricot_config bytes.

    .EXAMPLE
    Get-ApexOneApricotCert -Data $bytes
    #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Data
    )

    $text = (ConvertFrom-ApexOneFileContent -Data $Data).text
    $result = @{}
    $elements = @(
        @('cert_cn', $script:ApexOneFilesPattern.APRICOT_CN_RE),
        @('cert_friendly_name', $script:ApexOneFilesPattern.APRICOT_FN_RE)
    )
    foreach ($item in $elements) {
        $match = [regex]::Match($text, $item[1])
        if (-not $match.Success) {
            $result[$item[0]] = $null
        }
        elseif (-not $match.Groups[1].Success) {
            $result[$item[0]] = ''
        }
        else {
            $result[$item[0]] = ConvertFrom-ApexOneXmlText -Value $match.Groups[1].Value
        }
    }
    $result
}

Function Edit-ApexOneXmlElement {
    <#
    .SYNOPSIS
    Gives a matched element the escaped text; the text unchanged when it has it already (Python: _set_element).

    .PARAMETER Text
    The whole file text.

    .PARAMETER Match
    The element match of APRICOT_CN_RE or APRICOT_FN_RE.

    .PARAMETER Tag
    The element name.

    .PARAMETER Escaped
    The escaped new text.

    .EXAMPLE
    Edit-ApexOneXmlElement -Text $text -Match $match -Tag 'cert_cn' -Escaped 'host'
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $Text,

        [Parameter(Mandatory = $true)]
        [System.Text.RegularExpressions.Match]
        $Match,

        [Parameter(Mandatory = $true)]
        [string]
        $Tag,

        [Parameter(Mandatory = $true)]
        [string]
        $Escaped
    )

    $group = $Match.Groups[1]
    if (-not $group.Success) {
        return $Text.Substring(0, $Match.Index) + '<' + $Tag + '>' + $Escaped + '</' + $Tag + '>' + $Text.Substring($Match.Index + $Match.Length)
    }
    if ($group.Value -ceq $Escaped) {
        return $Text
    }
    $Text.Substring(0, $group.Index) + $Escaped + $Text.Substring($group.Index + $group.Length)
}

Function Edit-ApexOneApricotContent {
    <#
    .SYNOPSIS
    Sets cert_cn and cert_friendly_name in apricot_config, keeping every other byte (Python: set_apricot_cert).

    .DESCRIPTION
    The cert_cn element must appear exactly once. cert_friendly_name is updated when present (exactly
    once), otherwise added right under cert_cn: on its own line with the same indent when cert_cn
    ends its line, else directly after it. Values are XML-escaped (&, <, >); values with control
    characters or line breaks are refused. Returns Data itself when nothing changes. Nothing is
    written to disk.

    .PARAMETER Data
    The apricot_config bytes.

    .PARAMETER CertCn
    The new cert_cn value.

    .PARAMETER FriendlyName
    The new cert_friendly_name value.

    .EXAMPLE
    $new = Edit-ApexOneApricotContent -Data $bytes -CertCn 'apex01.corp.example' -FriendlyName 'ApexOne 2025'
    #>
    [CmdletBinding()]
    [OutputType([byte[]])]
    param (
        [Parameter(Mandatory = $true)]
        [AllowEmptyCollection()]
        [byte[]]
        $Data,

        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $CertCn,

        [Parameter(Mandatory = $true)]
        [AllowEmptyString()]
        [string]
        $FriendlyName
    )

    $decoded = ConvertFrom-ApexOneFileContent -Data $Data
    Assert-ApexOneFileValue -Name 'cert_cn' -Value $CertCn -Codec $decoded.codec
    Assert-ApexOneFileValue -Name 'friendly_name' -Value $FriendlyName -Codec $decoded.codec
    $text = $decoded.text
    $cnMatches = [regex]::Matches($text, $script:ApexOneFilesPattern.APRICOT_CN_RE)
    if ($cnMatches.Count -ne 1) {
        throw [System.ArgumentException]"expected exactly one <cert_cn> element, found $($cnMatches.Count)"
    }
    $newText = Edit-ApexOneXmlElement -Text $text -Match $cnMatches[0] -Tag 'cert_cn' -Escaped (ConvertTo-ApexOneXmlText -Value $CertCn)

    $fnMatches = [regex]::Matches($newText, $script:ApexOneFilesPattern.APRICOT_FN_RE)
    $escapedFn = ConvertTo-ApexOneXmlText -Value $FriendlyName
    if ($fnMatches.Count -gt 1) {
        throw [System.ArgumentException]"expected at most one <cert_friendly_name> element, found $($fnMatches.Count)"
    }
    if ($fnMatches.Count -eq 1) {
        $newText = Edit-ApexOneXmlElement -Text $newText -Match $fnMatches[0] -Tag 'cert_friendly_name' -Escaped $escapedFn
    }
    else {
        $cnMatch = [regex]::Match($newText, $script:ApexOneFilesPattern.APRICOT_CN_RE)
        if (-not $cnMatch.Success) {
            # cannot happen: it was set a moment ago
            throw [System.ArgumentException]'the <cert_cn> element disappeared while editing'
        }
        $element = '<cert_friendly_name>' + $escapedFn + '</cert_friendly_name>'
        $end = $cnMatch.Index + $cnMatch.Length
        $stop = $end
        while ($stop -lt $newText.Length -and "`r`n".IndexOf($newText[$stop]) -lt 0) {
            $stop++
        }
        $rest = $newText.Substring($end, $stop - $end)
        if ($rest.Trim([char[]]@([char]32, [char]9)) -ceq '') {
            $start = $cnMatch.Index
            while ($start -gt 0 -and "`r`n".IndexOf($newText[$start - 1]) -lt 0) {
                $start--
            }
            $indentEnd = $start
            while ($indentEnd -lt $newText.Length -and " `t".IndexOf($newText[$indentEnd]) -ge 0) {
                $indentEnd++
            }
            $indent = $newText.Substring($start, $indentEnd - $start)
            if ($newText.IndexOf("`r`n", $stop, [System.StringComparison]::Ordinal) -eq $stop) {
                $terminator = "`r`n"
            }
            elseif ($stop -lt $newText.Length) {
                $terminator = [string]$newText[$stop]
            }
            else {
                $terminator = ''
            }
            if ($terminator -ceq '') {
                $newText = $newText.Substring(0, $stop) + (Get-ApexOneFirstNewline -Text $newText) + $indent + $element
            }
            else {
                $after = $stop + $terminator.Length
                $newText = $newText.Substring(0, $after) + $indent + $element + $terminator + $newText.Substring($after)
            }
        }
        else {
            $newText = $newText.Substring(0, $end) + $element + $newText.Substring($end)
        }
    }
    if ($newText -ceq $text) {
        return , $Data
    }
    ConvertTo-ApexOneFileContent -Text $newText -Codec $decoded.codec -Bom $decoded.bom
}

Export-ModuleMember -Function @(
    'ConvertFrom-ApexOneFileContent'
    'ConvertTo-ApexOneFileContent'
    'Assert-ApexOneFileValue'
    'Get-ApexOneIniContentValue'
    'Edit-ApexOneIniContent'
    'Get-ApexOneApricotCert'
    'Edit-ApexOneApricotContent'
)
