<#
.SYNOPSIS
    Writes the mailbox inventory that cutover imports in stage 2 (Source health check), and exports the
    transport rules for stage 9 (Post-migration).

.DESCRIPTION
    Run it in the Exchange Management Shell of the source Exchange Server (2010 SP3 to 2019), as an account
    that may run Get-Mailbox, Get-MailboxStatistics and Export-TransportRuleCollection.

    It writes, into -OutputFolder:
      cutover-inventory-<date>.csv            one row per mailbox, sizes in bytes, UTF-8
      cutover-transport-rules-<date>.xml      the transport rule collection (Export-TransportRuleCollection)
      cutover-transport-rules-<date>.csv      one line per rule: name, state, priority, mode, comments
      cutover-transport-rules-<date>.json     each rule's conditions, exceptions and actions, for stage 9
                                              (recipients as their primary SMTP address)

    Then, on the engineer's machine:  cutover import inventory cutover-inventory-<date>.csv
    (or press i in stage 2 of the wizard).

    Nothing on the server is changed. Written for PowerShell 2.0 (Exchange 2010) and later; works in a local
    Exchange Management Shell and over remote PowerShell, where sizes arrive as text.

.PARAMETER OutputFolder
    Where the files go. Defaults to the current folder.

.EXAMPLE
    .\Get-CutoverInventory.ps1 -OutputFolder C:\Temp
#>
[CmdletBinding()]
param(
    [string]$OutputFolder = (Get-Location).Path
)

$ErrorActionPreference = 'Stop'

if (-not (Get-Command Get-Mailbox -ErrorAction SilentlyContinue)) {
    throw 'Get-Mailbox is not available: run this script in the Exchange Management Shell of the source server.'
}
if (-not (Test-Path -LiteralPath $OutputFolder -PathType Container)) {
    throw "Output folder '$OutputFolder' does not exist."
}

$stamp = Get-Date -Format 'yyyyMMdd-HHmm'
$inventoryPath = Join-Path $OutputFolder "cutover-inventory-$stamp.csv"
$rulesXmlPath = Join-Path $OutputFolder "cutover-transport-rules-$stamp.xml"
$rulesCsvPath = Join-Path $OutputFolder "cutover-transport-rules-$stamp.csv"
$rulesJsonPath = Join-Path $OutputFolder "cutover-transport-rules-$stamp.json"

# Bytes from a mailbox size: a ByteQuantifiedSize in a local shell, text like
# "1.2 GB (1,288,490,189 bytes)" over remote PowerShell, or nothing for a mailbox never logged on to.
function ConvertTo-Bytes($size) {
    if ($null -eq $size) { return [uint64]0 }
    if ($size.Value -and ($size.Value | Get-Member -Name ToBytes -MemberType Method)) {
        return [uint64]$size.Value.ToBytes()
    }
    if ($size | Get-Member -Name ToBytes -MemberType Method) { return [uint64]$size.ToBytes() }
    $text = [string]$size
    if ($text -match '\(([\d\s,\.''\u00a0]+)\s*bytes\)') { return [uint64]($Matches[1] -replace '[^\d]', '') }
    if ($text -match '^\d+$') { return [uint64]$text }
    Write-Warning "Size '$text' could not be read; written as empty."
    return $null
}

function Get-Text($value) {
    if ($null -eq $value) { return '' }
    return [string]$value
}

# JSON by hand: ConvertTo-Json needs PowerShell 3.0, and Exchange 2010's shell is 2.0.
function ConvertTo-JsonText($value) {
    if ($null -eq $value) { return 'null' }
    if ($value -is [bool]) { if ($value) { return 'true' } else { return 'false' } }
    if ($value -is [int] -or $value -is [long] -or $value -is [uint32] -or $value -is [uint64]) { return [string]$value }
    if ($value -is [System.Collections.IEnumerable] -and -not ($value -is [string])) {
        $items = @($value | ForEach-Object { ConvertTo-JsonText $_ })
        return '[' + ($items -join ',') + ']'
    }
    $text = [string]$value
    $builder = New-Object System.Text.StringBuilder
    foreach ($c in $text.ToCharArray()) {
        switch ($c) {
            '"' { [void]$builder.Append('\"') }
            '\' { [void]$builder.Append('\\') }
            default {
                if ([int]$c -lt 32) { [void]$builder.Append(('\u{0:x4}' -f [int]$c)) } else { [void]$builder.Append($c) }
            }
        }
    }
    return '"' + $builder.ToString() + '"'
}

# Rule properties that name recipients: written as primary SMTP addresses, which Exchange Online resolves.
$recipientProperties = @('From', 'SentTo', 'FromMemberOf', 'SentToMemberOf', 'RedirectMessageTo', 'BlindCopyTo',
    'CopyTo', 'AddToRecipients', 'ModerateMessageByUser', 'AnyOfToHeader', 'AnyOfCcHeader', 'AnyOfToCcHeader',
    'ExceptIfFrom', 'ExceptIfSentTo', 'ExceptIfFromMemberOf', 'ExceptIfSentToMemberOf', 'ExceptIfAnyOfToHeader',
    'ExceptIfAnyOfCcHeader', 'ExceptIfAnyOfToCcHeader', 'GenerateIncidentReport', 'GenerateNotification')
# What Get-TransportRule says of a rule that is no condition, exception or action.
$ruleMetadata = @('Identity', 'Guid', 'ImmutableId', 'DistinguishedName', 'Description', 'WhenChanged', 'RuleVersion',
    'Conditions', 'Exceptions', 'Actions', 'IsValid', 'ObjectState', 'ManuallyModified', 'OrganizationId',
    'RuleSubType', 'UseLegacyRegex', 'PSComputerName', 'RunspaceId', 'PSShowComputerName')

function ConvertTo-RuleJson($rule) {
    $fields = @()
    $fields += '"Name":' + (ConvertTo-JsonText ([string]$rule.Name))
    $fields += '"State":' + (ConvertTo-JsonText ([string]$rule.State))
    $fields += '"Priority":' + (ConvertTo-JsonText ([int]$rule.Priority))
    $fields += '"Mode":' + (ConvertTo-JsonText ([string]$rule.Mode))
    foreach ($p in $rule.PSObject.Properties) {
        if (@('Name', 'State', 'Priority', 'Mode') -contains $p.Name -or $ruleMetadata -contains $p.Name) { continue }
        $v = $p.Value
        if ($null -eq $v -or ($v -is [bool] -and -not $v)) { continue }
        if ($v -is [System.Collections.ICollection] -and $v.Count -eq 0) { continue }
        if ($recipientProperties -contains $p.Name) {
            $v = @($v | ForEach-Object {
                $r = Get-Recipient -Identity ([string]$_) -ErrorAction SilentlyContinue
                if ($r) { [string]$r.PrimarySmtpAddress } else { [string]$_ }
            })
        } elseif ($v -is [System.Collections.IEnumerable] -and -not ($v -is [string])) {
            $v = @($v | ForEach-Object { [string]$_ })
        } elseif (-not ($v -is [bool])) {
            $v = [string]$v
        }
        if ($v -is [string] -and $v -eq '') { continue }
        $fields += (ConvertTo-JsonText $p.Name) + ':' + (ConvertTo-JsonText $v)
    }
    return '{' + ($fields -join ',') + '}'
}

$mailboxes = @(Get-Mailbox -ResultSize Unlimited)
$total = $mailboxes.Count
$rows = @()
$i = 0
foreach ($mbx in $mailboxes) {
    $i++
    Write-Progress -Activity 'Reading mailboxes' -Status "$i of $total $($mbx.PrimarySmtpAddress)" -PercentComplete (100 * $i / [Math]::Max($total, 1))
    $stats = Get-MailboxStatistics -Identity $mbx.Identity -WarningAction SilentlyContinue -ErrorAction SilentlyContinue

    $archive = Get-Text $mbx.ArchiveState
    if ($archive -eq '') { $archive = Get-Text $mbx.ArchiveStatus }
    $lastLogon = ''
    if ($stats -and $stats.LastLogonTime) { $lastLogon = ([DateTime]$stats.LastLogonTime).ToUniversalTime().ToString('o') }
    $forwarding = Get-Text $mbx.ForwardingSmtpAddress
    if ($forwarding -eq '' -and $mbx.ForwardingAddress) {
        $target = Get-Recipient -Identity $mbx.ForwardingAddress -ErrorAction SilentlyContinue
        if ($target) { $forwarding = Get-Text $target.PrimarySmtpAddress } else { $forwarding = Get-Text $mbx.ForwardingAddress }
    }

    $row = New-Object PSObject
    $row | Add-Member NoteProperty DisplayName (Get-Text $mbx.DisplayName)
    $row | Add-Member NoteProperty PrimarySmtpAddress (Get-Text $mbx.PrimarySmtpAddress)
    $row | Add-Member NoteProperty UserPrincipalName (Get-Text $mbx.UserPrincipalName)
    $row | Add-Member NoteProperty EmailAddresses ((@($mbx.EmailAddresses) | ForEach-Object { [string]$_ }) -join ';')
    $row | Add-Member NoteProperty RecipientTypeDetails (Get-Text $mbx.RecipientTypeDetails)
    $row | Add-Member NoteProperty TotalItemSizeBytes (ConvertTo-Bytes $stats.TotalItemSize)
    $row | Add-Member NoteProperty ItemCount $(if ($stats) { [uint64]$stats.ItemCount } else { 0 })
    $row | Add-Member NoteProperty TotalDeletedItemSizeBytes (ConvertTo-Bytes $stats.TotalDeletedItemSize)
    $row | Add-Member NoteProperty ArchiveState $archive
    $row | Add-Member NoteProperty HiddenFromAddressListsEnabled ([bool]$mbx.HiddenFromAddressListsEnabled)
    $row | Add-Member NoteProperty ForwardingSmtpAddress $forwarding
    $row | Add-Member NoteProperty LastLogonTime $lastLogon
    $row | Add-Member NoteProperty Database (Get-Text $mbx.Database)
    $row | Add-Member NoteProperty LegacyExchangeDN (Get-Text $mbx.LegacyExchangeDN)
    $rows += $row
}
Write-Progress -Activity 'Reading mailboxes' -Completed

$rows | Export-Csv -LiteralPath $inventoryPath -NoTypeInformation -Encoding UTF8

$rules = @(Get-TransportRule)
if ($rules.Count -gt 0) {
    $collection = Export-TransportRuleCollection
    [System.IO.File]::WriteAllBytes($rulesXmlPath, $collection.FileData)
    $rules | Select-Object Name, State, Priority, Mode, Comments | Export-Csv -LiteralPath $rulesCsvPath -NoTypeInformation -Encoding UTF8
    $json = '[' + ((@($rules | ForEach-Object { ConvertTo-RuleJson $_ })) -join ",`r`n") + ']'
    [System.IO.File]::WriteAllText($rulesJsonPath, $json, (New-Object System.Text.UTF8Encoding $false))
}
# Every rule as New-TransportRule takes it: the cmdlet's own parameters that the rule sets, and its State
# (Enabled or Disabled), which New-TransportRule takes as -Enabled. An empty list when the server has none.
$parameters = @((Get-Command New-TransportRule).Parameters.Keys)
$common = @('Name', 'Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'ErrorVariable', 'WarningVariable',
    'OutVariable', 'OutBuffer', 'WhatIf', 'Confirm', 'DomainController', 'Organization', 'Enabled',
    'InformationAction', 'InformationVariable', 'PipelineVariable')
$objects = @()
foreach ($rule in $rules) {
    $fields = @(('"Name":' + (ConvertTo-JsonText ([string]$rule.Name))), ('"State":' + (ConvertTo-JsonText ([string]$rule.State))))
    foreach ($name in $parameters) {
        if ($common -contains $name) { continue }
        $property = $rule.PSObject.Properties[$name]
        if ($null -eq $property -or -not (Test-Set $property.Value)) { continue }
        $value = $property.Value
        if ($value -is [Enum]) { $value = [string]$value }
        $fields += ('"' + $name + '":' + (ConvertTo-JsonText $value))
    }
    $objects += ('  {' + ($fields -join ',') + '}')
}
$json = "[`n" + ($objects -join ",`n") + "`n]`n"
[System.IO.File]::WriteAllText($rulesJsonPath, $json, (New-Object System.Text.UTF8Encoding($false)))

$bytes = ($rows | Measure-Object -Property TotalItemSizeBytes -Sum).Sum
$hidden = @($rows | Where-Object { $_.HiddenFromAddressListsEnabled }).Count
Write-Host ("{0} mailboxes, {1:N1} GB in all; {2} hidden from address lists (a cutover batch does not see them)." -f $rows.Count, ($bytes / 1GB), $hidden)
Write-Host "Inventory:       $inventoryPath"
if ($rules.Count -gt 0) {
    Write-Host "Transport rules: $rulesXmlPath ($($rules.Count) rules; summary in $rulesCsvPath)"
    Write-Host "For stage 9:     $rulesJsonPath (cutover set transport-rules-file <file>, or the stage 9 setting)"
} else {
    Write-Host "Transport rules: none on this server ($rulesJsonPath holds an empty list)."
}
Write-Host 'Next: copy the inventory to the engineer''s machine and run: cutover import inventory <file>'
