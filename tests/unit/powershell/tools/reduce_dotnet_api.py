"""Writes tests/reference/dotnet_api.json: the .NET availability data reduced by hand from dotnet/dotnet-api-docs.

Each verified entry records the XML file, its commit and the evidence read in it (see "reduction" in the output).
Run from the repository root after editing an entry: python tests/unit/powershell/tools/reduce_dotnet_api.py
"""

import json

R = "dotnet/dotnet-api-docs"


def read(path, commit, since, evidence, members):
    return {
        "since": since,
        "verified": True,
        "xml": {"path": path, "commit": commit},
        "evidence": evidence,
        "members": members,
    }


def unread(
    since, members, note="mscorlib/System/System.Core type of .NET Framework 2.0-era API surface; XML not yet read"
):
    return {"since": since, "verified": False, "xml": None, "evidence": note, "members": members}


T = {}
T["System.Security.Cryptography.X509Certificates.RSACertificateExtensions"] = read(
    "xml/System.Security.Cryptography.X509Certificates/RSACertificateExtensions.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "4.6",
    "every member's [SecuritySafeCritical] and C# signature FrameworkAlternate start at netframework-4.6 (CopyWithPrivateKey at 4.7.2)",
    {"GetRSAPrivateKey": "4.6", "GetRSAPublicKey": "4.6", "CopyWithPrivateKey": "4.7.2"},
)
T["System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions"] = read(
    "xml/System.Security.Cryptography.X509Certificates/ECDsaCertificateExtensions.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "4.6.1",
    "GetECDsaPrivateKey/GetECDsaPublicKey signature FrameworkAlternate start at netframework-4.6.1; CopyWithPrivateKey at 4.7.2",
    {"GetECDsaPrivateKey": "4.6.1", "GetECDsaPublicKey": "4.6.1", "CopyWithPrivateKey": "4.7.2"},
)
T["System.Security.Cryptography.X509Certificates.X509Store"] = read(
    "xml/System.Security.Cryptography.X509Certificates/X509Store.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "2.0",
    "TypeSignature 'public sealed class X509Store' FrameworkAlternate netframework-2.0..4.5.2, ': IDisposable' from netframework-4.6; "
    "remarks: 'For apps that target the .NET Framework 4.5.2 and earlier versions, the X509Store class does not implement the "
    "IDisposable interface and therefore does not have a Dispose method'",
    {
        ".ctor": "2.0",
        "Open": "2.0",
        "Close": "2.0",
        "Certificates": "2.0",
        "Add": "2.0",
        "Remove": "2.0",
        "Name": "2.0",
        "Location": "2.0",
        "Dispose": "4.6",
    },
)
T["System.Security.Cryptography.X509Certificates.X509Certificate2"] = read(
    "xml/System.Security.Cryptography.X509Certificates/X509Certificate2.xml",
    "00e9256fc90108a6b15a4f1da8850867182adb1f",
    "2.0",
    "TypeSignature FrameworkAlternate netframework-2.0..., AssemblyInfo System 2.0.0.0; remarks: 'For apps that target the .NET "
    "Framework 4.5.2 and earlier versions, the X509Certificate2 class does not implement the IDisposable interface and therefore "
    "does not have a Dispose method'",
    {
        ".ctor": "2.0",
        "Dispose": "4.6",
        "Import": "2.0",
        "Thumbprint": "2.0",
        "HasPrivateKey": "2.0",
        "PublicKey": "2.0",
        "GetNameInfo": "2.0",
        "Extensions": "2.0",
        "FriendlyName": "2.0",
        "NotAfter": "2.0",
        "NotBefore": "2.0",
        "RawData": "2.0",
        "Subject": "2.0",
        "Issuer": "2.0",
        "SerialNumber": "2.0",
        "Verify": "2.0",
    },
)
T["System.Security.Cryptography.CngKey"] = read(
    "xml/System.Security.Cryptography/CngKey.xml",
    "03831f4b12927fc32ff90e7e40bb42a9c787a67c",
    "3.5",
    "AssemblyInfo System.Core 3.5.0.0; member attributes FrameworkAlternate from netframework-3.5",
    {
        "Open": "3.5",
        "Delete": "3.5",
        "ExportPolicy": "3.5",
        "Create": "3.5",
        "Algorithm": "3.5",
        "AlgorithmGroup": "3.5",
        "UniqueName": "3.5",
        "IsMachineKey": "3.5",
        "Provider": "3.5",
        "KeySize": "3.5",
    },
)
T["Microsoft.Win32.RegistryKey"] = read(
    "xml/Microsoft.Win32/RegistryKey.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "1.1",
    "TypeSignature FrameworkAlternate netframework-1.1...; AssemblyInfo mscorlib 1.0.5000.0; OpenBaseKey is a .NET 4.0 member "
    "(AssemblyInfo mscorlib 4.0.0.0 only)",
    {
        "OpenBaseKey": "4.0",
        "OpenSubKey": "1.1",
        "GetValue": "1.1",
        "GetValueKind": "2.0",
        "Close": "1.1",
        "Dispose": "2.0",
        "GetValueNames": "1.1",
        "GetSubKeyNames": "1.1",
        "SetValue": "1.1",
    },
)
T["Microsoft.Win32.RegistryView"] = read(
    "xml/Microsoft.Win32/RegistryView.xml",
    "0499abfb397e1295a5863d1496111de4cead1224",
    "4.0",
    "AssemblyInfo mscorlib 2.0.5.0 (Silverlight) and 4.0.0.0 only, for the type and each field: .NET Framework 4.0",
    {"Registry32": "4.0", "Registry64": "4.0", "Default": "4.0"},
)
T["System.Collections.Generic.HashSet`1"] = read(
    "xml/System.Collections.Generic/HashSet`1.xml",
    "04db5f702f40e812fd4e456b3b042fee39e03452",
    "3.5",
    "TypeSignature FrameworkAlternate netframework-3.5, then netframework-4.0..4.5.2 (ISet), 4.6+; AssemblyInfo System.Core 3.5.0.0",
    {".ctor": "3.5", "Add": "3.5", "Contains": "3.5", "Count": "3.5"},
)
T["System.Net.NetworkInformation.IPGlobalProperties"] = read(
    "xml/System.Net.NetworkInformation/IPGlobalProperties.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "2.0",
    "AssemblyInfo System 2.0.0.0 for the type and its members",
    {"GetIPGlobalProperties": "2.0", "DomainName": "2.0", "HostName": "2.0"},
)
T["System.Security.Cryptography.X509Certificates.X509Certificate"] = read(
    "xml/System.Security.Cryptography.X509Certificates/X509Certificate.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "1.1",
    "TypeSignature FrameworkAlternate netframework-1.1, -2.0..4.5.2 without IDisposable, 4.6+ with it (Interface System.IDisposable "
    "FrameworkAlternate from netframework-4.6); remarks: 'For apps that target the .NET Framework 4.5.2 and earlier versions, the "
    "X509Certificate class does not implement the IDisposable interface and therefore does not have a Dispose method'",
    {"Handle": "2.0", "Dispose": "4.6", "GetCertHash": "1.1", "Subject": "2.0", "Issuer": "2.0"},
)
T["Microsoft.Win32.RegistryValueOptions"] = read(
    "xml/Microsoft.Win32/RegistryValueOptions.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "2.0",
    "AssemblyInfo mscorlib 2.0.0.0 for the type and both fields",
    {"DoNotExpandEnvironmentNames": "2.0", "None": "2.0"},
)
T["System.Security.Cryptography.CspProviderFlags"] = read(
    "xml/System.Security.Cryptography/CspProviderFlags.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "1.1",
    "ILAsm TypeSignature FrameworkAlternate netframework-1.1...; fields UseDefaultKeyContainer/UseExistingKey in mscorlib "
    "1.0.5000.0, NoPrompt/UseArchivableKey in 2.0.0.0",
    {
        "NoFlags": "2.0",
        "NoPrompt": "2.0",
        "UseArchivableKey": "2.0",
        "UseDefaultKeyContainer": "1.1",
        "UseExistingKey": "1.1",
        "UseMachineKeyStore": "1.1",
        "CreateEphemeralKey": "4.0",
    },
)
T["System.Security.Cryptography.CngProvider"] = read(
    "xml/System.Security.Cryptography/CngProvider.xml",
    "03caa1ce3b2fd334a6b86a76f1448b17fec8f047",
    "3.5",
    "AssemblyInfo System.Core 3.5.0.0 for the type and its constructor",
    {".ctor": "3.5", "Provider": "3.5"},
)
T["System.Security.Cryptography.X509Certificates.X509KeyStorageFlags"] = read(
    "xml/System.Security.Cryptography.X509Certificates/X509KeyStorageFlags.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "2.0",
    "ILAsm TypeSignature FrameworkAlternate netframework-2.0...; DefaultKeySet, Exportable, MachineKeySet, PersistKeySet, "
    "UserKeySet in mscorlib 2.0.0.0; EphemeralKeySet only in mscorlib 4.0.0.0 and the X509Certificates contract 4.2.0.0: a 4.x "
    "addition the XML does not date, so treated as newer than 4.5.2",
    {
        "DefaultKeySet": "2.0",
        "Exportable": "2.0",
        "MachineKeySet": "2.0",
        "PersistKeySet": "2.0",
        "UserKeySet": "2.0",
        "UserProtected": "2.0",
        "EphemeralKeySet": "4.6",
    },
)
T["System.IO.Directory"] = read(
    "xml/System.IO/Directory.xml",
    "016268484fe7c70ae3d589de949f7a6ed7d76465",
    "1.1",
    "CreateDirectory(String): AssemblyInfo mscorlib 1.0.5000.0..4.0.0.0; CreateDirectory(String, DirectorySecurity): "
    "Parameter FrameworkAlternate netframework-2.0..netframework-4.8.1 (a .NET Framework-only overload)",
    {"CreateDirectory": "2.0"},
)
T["System.Security.AccessControl.DirectorySecurity"] = read(
    "xml/System.Security.AccessControl/DirectorySecurity.xml",
    "06805e6680e1b2615ba7d936a8c103a16c7bb305",
    "2.0",
    "TypeSignature without FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0; .ctor() the same",
    {".ctor": "2.0"},
)
# Read from dotnet-api-docs in the verification pass of the unread entries (most important namespaces first).
C0305 = "0305a2d57b63b5ed07cd590f0061cb6343234b42"
C0680 = "06805e6680e1b2615ba7d936a8c103a16c7bb305"
X509 = "xml/System.Security.Cryptography.X509Certificates/"
T["System.Security.Cryptography.X509Certificates.OpenFlags"] = read(
    X509 + "OpenFlags.xml",
    C0305,
    "2.0",
    "[Flags] Attribute FrameworkAlternate starts at netframework-2.0; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the "
    "type and every field",
    {"OpenExistingOnly": "2.0", "ReadOnly": "2.0", "ReadWrite": "2.0"},
)
T["System.Security.Cryptography.X509Certificates.StoreLocation"] = read(
    X509 + "StoreLocation.xml",
    C0305,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the type and both fields",
    {"LocalMachine": "2.0", "CurrentUser": "2.0"},
)
T["System.Security.Cryptography.X509Certificates.X509NameType"] = read(
    X509 + "X509NameType.xml",
    C0680,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every field",
    {"SimpleName": "2.0", "DnsName": "2.0"},
)
T["System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension"] = read(
    X509 + "X509BasicConstraintsExtension.xml",
    C0680,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the type, its three .ctors and "
    "CertificateAuthority",
    {},
)
T["System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension"] = read(
    X509 + "X509EnhancedKeyUsageExtension.xml",
    C0680,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the type, its three .ctors and "
    "CopyFrom",
    {},
)
T["System.Security.Cryptography.X509Certificates.X509FindType"] = read(
    X509 + "X509FindType.xml",
    C0680,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for FindByThumbprint and the other "
    "fields read (FindByTemplateName, FindByTime*)",
    {"FindByThumbprint": "2.0"},
)
CRYPTO = "xml/System.Security.Cryptography/"
T["System.Security.Cryptography.CngKeyOpenOptions"] = read(
    CRYPTO + "CngKeyOpenOptions.xml",
    C0305,
    "3.5",
    "no netframework FrameworkAlternate; AssemblyInfo System.Core 2.0.5.0 (Silverlight)/3.5.0.0/4.0.0.0 for the type and "
    "every field (MachineKey, None, Silent, UserKey)",
    {"MachineKey": "3.5", "None": "3.5", "Silent": "3.5", "UserKey": "3.5"},
)
T["System.Security.Cryptography.CryptographicException"] = read(
    CRYPTO + "CryptographicException.xml",
    C0305,
    "1.1",
    "C# TypeSignature ': SystemException' FrameworkAlternate netframework-1.1...netframework-4.8; AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/4.0.0.0 for the type, .ctor() and .ctor(Int32)",
    {".ctor": "1.1"},
)
T["System.Security.Cryptography.SHA256"] = read(
    CRYPTO + "SHA256.xml",
    "01bb3f094b80cc7feed549ba77f11cdcf64198f4",
    "1.1",
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/4.0.0.0 for the type and Create(); Create(String) C# signature "
    "FrameworkAlternate netframework-1.1...",
    {"Create": "1.1"},
)
T["System.Security.Cryptography.CspKeyContainerInfo"] = read(
    CRYPTO + "CspKeyContainerInfo.xml",
    C0680,
    "2.0",
    "AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 (no 1.0.5000.0) for the type, .ctor(CspParameters) and Exportable",
    {".ctor": "2.0", "Exportable": "2.0"},
)
T["System.Security.Cryptography.CspParameters"] = read(
    CRYPTO + "CspParameters.xml",
    C0305,
    "1.1",
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/4.0.0.0 for the type, .ctor(), .ctor(Int32), .ctor(Int32, String), the "
    "Flags property, the KeyContainerName and KeyNumber fields; CryptoKeySecurity and KeyPassword are 2.0 (mscorlib 2.0.0.0)",
    {".ctor": "1.1", "Flags": "1.1", "KeyNumber": "1.1", "KeyContainerName": "1.1"},
)
T["System.Security.Cryptography.X509Certificates.X509Certificate2Collection"] = read(
    X509 + "X509Certificate2Collection.xml",
    C0305,
    "2.0",
    "no netframework FrameworkAlternate on the TypeSignature; AssemblyInfo System 2.0.0.0/2.0.5.0/4.0.0.0 for the type and "
    "its .ctors; Import(Byte[], String, X509KeyStorageFlags) (the overload the code calls) and Import(String, String, "
    "X509KeyStorageFlags): C# signature FrameworkAlternate netframework-2.0..netframework-4.8, AssemblyInfo System 2.0.0.0; "
    "the ReadOnlySpan overloads are net-5.0 only",
    {".ctor": "2.0", "Import": "2.0"},
)
T["System.Security.Cryptography.RSACryptoServiceProvider"] = read(
    CRYPTO + "RSACryptoServiceProvider.xml",
    "0267688addc3b2f9cbfac6dbcbee80a77328109a",
    "1.1",
    "C# TypeSignature ': RSA' FrameworkAlternate netframework-1.1 (': RSA, ICspAsymmetricAlgorithm' from netframework-2.0); "
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/4.0.0.0 for the type, .ctor() and PersistKeyInCsp",
    {".ctor": "1.1", "PersistKeyInCsp": "1.1"},
)
ACL = "xml/System.Security.AccessControl/"
T["System.Security.AccessControl.AccessControlSections"] = read(
    ACL + "AccessControlSections.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every field",
    {"None": "2.0", "Audit": "2.0", "Access": "2.0", "Owner": "2.0", "Group": "2.0", "All": "2.0"},
)
T["System.Security.AccessControl.AccessControlType"] = read(
    ACL + "AccessControlType.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and both fields",
    {"Allow": "2.0", "Deny": "2.0"},
)
T["System.Security.AccessControl.InheritanceFlags"] = read(
    ACL + "InheritanceFlags.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every field",
    {"None": "2.0", "ContainerInherit": "2.0", "ObjectInherit": "2.0"},
)
T["System.Security.AccessControl.PropagationFlags"] = read(
    ACL + "PropagationFlags.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every field",
    {"None": "2.0", "NoPropagateInherit": "2.0", "InheritOnly": "2.0"},
)
T["System.Security.AccessControl.FileSystemRights"] = read(
    ACL + "FileSystemRights.xml",
    C0305,
    "2.0",
    "fields FullControl, Modify, Read, ReadAndExecute (and the neighbours read, Delete..ReadData): no FrameworkAlternate, "
    "AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0",
    {"FullControl": "2.0", "Modify": "2.0", "Read": "2.0", "ReadAndExecute": "2.0"},
)
T["System.Security.AccessControl.RegistryRights"] = read(
    ACL + "RegistryRights.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every field",
    {"FullControl": "2.0", "ReadKey": "2.0", "WriteKey": "2.0", "ChangePermissions": "2.0", "TakeOwnership": "2.0"},
)
T["System.Security.AccessControl.AccessRule"] = read(
    ACL + "AccessRule.xml",
    "03831f4b12927fc32ff90e7e40bb42a9c787a67c",
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, its .ctor and AccessControlType",
    {"AccessControlType": "2.0"},
)
T["System.Security.AccessControl.AuthorizationRule"] = read(
    ACL + "AuthorizationRule.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and every member (.ctor, AccessMask, "
    "IdentityReference, InheritanceFlags, IsInherited, PropagationFlags)",
    {"IdentityReference": "2.0"},
)
T["System.Security.AccessControl.FileSecurity"] = read(
    ACL + "FileSecurity.xml",
    C0680,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, .ctor() and "
    ".ctor(String, AccessControlSections)",
    {".ctor": "2.0"},
)
T["System.Security.AccessControl.FileSystemSecurity"] = read(
    ACL + "FileSystemSecurity.xml",
    C0680,
    "2.0",
    "AccessRuleFactory, AccessRuleType, AddAccessRule(FileSystemAccessRule), AddAuditRule: no FrameworkAlternate, "
    "AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0",
    {"AddAccessRule": "2.0", "AccessRuleFactory": "2.0"},
)
T["System.Security.AccessControl.CommonObjectSecurity"] = read(
    ACL + "CommonObjectSecurity.xml",
    C0680,
    "2.0",
    "GetAccessRules(Boolean, Boolean, Type), GetAuditRules, ModifyAccess, ModifyAudit, RemoveAccessRule: AssemblyInfo "
    "mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 (only a SecuritySafeCritical attribute has FrameworkAlternate netframework-4.0)",
    {"GetAccessRules": "2.0"},
)
T["System.Security.AccessControl.FileSystemAccessRule"] = read(
    ACL + "FileSystemAccessRule.xml",
    C0305,
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, the .ctor overloads "
    "read (IdentityReference or String, FileSystemRights, [InheritanceFlags, PropagationFlags,] AccessControlType) and the "
    "FileSystemRights property",
    {".ctor": "2.0", "FileSystemRights": "2.0"},
)
T["System.Security.AccessControl.ObjectSecurity"] = read(
    ACL + "ObjectSecurity.xml",
    "055a4a82a0b08bfbdc21bd1347fb71f7fe2c099e",
    "2.0",
    "no FrameworkAlternate on the type; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, AccessRuleFactory, "
    "GetSecurityDescriptorBinaryForm(), SetAccessRuleProtection, SetOwner and both SetSecurityDescriptorBinaryForm overloads "
    "(Byte[]; Byte[], AccessControlSections); only the protected .ctor() is mscorlib 2.0.5.0/4.0.0.0",
    {
        "AccessRuleFactory": "2.0",
        "SetAccessRuleProtection": "2.0",
        "GetSecurityDescriptorBinaryForm": "2.0",
        "SetSecurityDescriptorBinaryForm": "2.0",
    },
)
PRINCIPAL = "xml/System.Security.Principal/"
T["System.Security.Principal.IdentityNotMappedException"] = read(
    PRINCIPAL + "IdentityNotMappedException.xml",
    "03831f4b12927fc32ff90e7e40bb42a9c787a67c",
    "2.0",
    "C# TypeSignature ': SystemException' FrameworkAlternate netframework-2.0..netframework-4.8.1; AssemblyInfo mscorlib "
    "2.0.0.0/2.0.5.0/4.0.0.0 for the type and its three .ctors",
    {},
)
T["System.Security.Principal.IdentityReference"] = read(
    PRINCIPAL + "IdentityReference.xml",
    C0680,
    "2.0",
    "no FrameworkAlternate on the type; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, Equals(Object) (C# "
    "signature FrameworkAlternate netframework-2.0..netframework-4.8), Translate(Type) and Value",
    {"Equals": "2.0", "Translate": "2.0", "Value": "2.0"},
)
T["System.Security.Principal.NTAccount"] = read(
    PRINCIPAL + "NTAccount.xml",
    "0257f905a7c8be393749873417d0ecf1267c0351",
    "2.0",
    "no netframework FrameworkAlternate on the type; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type, .ctor(String) "
    "and .ctor(String, String)",
    {".ctor": "2.0"},
)
T["System.Security.Principal.SecurityIdentifier"] = read(
    PRINCIPAL + "SecurityIdentifier.xml",
    C0305,
    "2.0",
    "no netframework FrameworkAlternate on the type; AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 for the type and its four "
    ".ctors (IntPtr; String; Byte[], Int32; WellKnownSidType, SecurityIdentifier)",
    {".ctor": "2.0"},
)
T["System.IO.DirectoryNotFoundException"] = read(
    "xml/System.IO/DirectoryNotFoundException.xml",
    C0305,
    "1.1",
    "ILAsm TypeSignature 'serializable' FrameworkAlternate netframework-1.1...netframework-4.8; AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0 for the type and its .ctors",
    {},
)
T["System.IO.FileNotFoundException"] = read(
    "xml/System.IO/FileNotFoundException.xml",
    C0305,
    "1.1",
    "ILAsm TypeSignature 'serializable' FrameworkAlternate netframework-1.1...netframework-4.8; AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0 for the type and its .ctors",
    {},
)
T["System.IO.File"] = read(
    "xml/System.IO/File.xml",
    "01e30fc6ebbfd203c70c698af687c9cf2c421127",
    "1.1",
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/4.0.0.0 for Copy(String, String), Copy(String, String, Boolean) and "
    "Move(String, String); mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 (no 1.0.5000.0) for ReadAllBytes(String), WriteAllBytes(String, "
    "Byte[]) and both Replace overloads (C# signatures FrameworkAlternate netframework-2.0..netframework-4.8.1); "
    "Move(String, String, Boolean) has no mscorlib version (netcore-3.0+ only) and the code calls the two-argument Move",
    {"Copy": "1.1", "Move": "1.1", "ReadAllBytes": "2.0", "Replace": "2.0", "WriteAllBytes": "2.0"},
)
T["Microsoft.Win32.RegistryHive"] = read(
    "xml/Microsoft.Win32/RegistryHive.xml",
    "0499abfb397e1295a5863d1496111de4cead1224",
    "1.1",
    "fields CurrentUser (tail), DynData, LocalMachine, PerformanceData, Users: AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/4.0.0.0",
    {"LocalMachine": "1.1"},
)
T["Microsoft.Win32.Registry"] = read(
    "xml/Microsoft.Win32/Registry.xml",
    "034e8e601bba332af7c5e413eebf0f5622a4c665",
    "1.1",
    "LocalMachine and PerformanceData fields: AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0; the static "
    "SetValue(String, String, Object) is 2.0 (mscorlib 2.0.0.0)",
    {"LocalMachine": "1.1"},
)
T["Microsoft.Win32.RegistryValueKind"] = read(
    "xml/Microsoft.Win32/RegistryValueKind.xml",
    "0499abfb397e1295a5863d1496111de4cead1224",
    "2.0",
    "DWord, ExpandString, MultiString, QWord, String, Unknown: AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0; None is "
    "mscorlib 2.0.5.0/4.0.0.0 only (.NET Framework 4.0; not used by the code); Binary's AssemblyInfo starts before the page "
    "read",
    {"DWord": "2.0", "String": "2.0", "ExpandString": "2.0", "MultiString": "2.0", "QWord": "2.0", "None": "4.0"},
)
T["System.Runtime.InteropServices.GCHandle"] = read(
    "xml/System.Runtime.InteropServices/GCHandle.xml",
    C0680,
    "1.1",
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0 for the type, AddrOfPinnedObject(), Alloc(Object) (C# "
    "signature FrameworkAlternate netframework-1.1...), Free() and IsAllocated; FromIntPtr is 2.0",
    {"AddrOfPinnedObject": "1.1", "Alloc": "1.1", "Free": "1.1"},
)
T["System.Runtime.InteropServices.Marshal"] = read(
    "xml/System.Runtime.InteropServices/Marshal.xml",
    C0305,
    "1.1",
    "C# TypeSignature 'public sealed class Marshal' FrameworkAlternate netframework-1.1 ('static class' from 2.0); "
    "AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0 for the type and AllocHGlobal(IntPtr) (the AllocHGlobal(Int32) "
    "overload's AssemblyInfo precedes the page read); the file is 937,351 characters and its other members were not reached",
    {"AllocHGlobal": "1.1"},
)
T["System.IO.Path"] = read(
    "xml/System.IO/Path.xml",
    "0090748a6716bea1586e972b8f684db6bec3a9ed",
    "1.1",
    "GetPathRoot(String): AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0; GetRandomFileName(), "
    "GetInvalidFileNameChars(), GetInvalidPathChars(): mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 (no 1.0.5000.0)",
    {"GetRandomFileName": "2.0"},
)
T["System.ServiceProcess.ServiceControllerStatus"] = read(
    "xml/System.ServiceProcess/ServiceControllerStatus.xml",
    C0680,
    "1.1",
    "every field (ContinuePending, Paused, PausePending, Running, StartPending, Stopped, StopPending): AssemblyInfo "
    "System.ServiceProcess 1.0.5000.0/2.0.0.0/4.0.0.0",
    {m: "1.1" for m in ["Paused", "Running", "StopPending", "Stopped", "StartPending", "ContinuePending", "PausePending"]},
)
T["System.SystemException"] = read(
    "xml/System/SystemException.xml",
    "03831f4b12927fc32ff90e7e40bb42a9c787a67c",
    "1.1",
    "ILAsm TypeSignature 'serializable' FrameworkAlternate netframework-1.1..netframework-4.8.1; AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0 for the type and its .ctors",
    {},
)
T["System.FormatException"] = read(
    "xml/System/FormatException.xml",
    C0305,
    "1.1",
    "C# TypeSignature ': SystemException' FrameworkAlternate netframework-1.1...netframework-4.8; AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0",
    {},
)
T["System.IDisposable"] = read(
    "xml/System/IDisposable.xml",
    C0305,
    "1.1",
    "Dispose(): AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0, no FrameworkAlternate",
    {"Dispose": "1.1"},
)
T["System.Collections.IEnumerator"] = read(
    "xml/System.Collections/IEnumerator.xml",
    C0680,
    "1.1",
    "Current (C# signature FrameworkAlternate netframework-1.1...), MoveNext(), Reset(): AssemblyInfo mscorlib "
    "1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0",
    {"Current": "1.1", "MoveNext": "1.1"},
)
T["System.Nullable`1"] = read(
    "xml/System/Nullable`1.xml",
    "04db5f702f40e812fd4e456b3b042fee39e03452",
    "2.0",
    "ILAsm TypeSignature 'serializable' FrameworkAlternate netframework-2.0..netframework-4.8; AssemblyInfo mscorlib "
    "2.0.0.0/2.0.5.0/4.0.0.0 for the type, .ctor(T) and Equals",
    {".ctor": "2.0"},
)
T["System.Text.DecoderFallback"] = read(
    "xml/System.Text/DecoderFallback.xml",
    C0680,
    "2.0",
    ".ctor, CreateFallbackBuffer, ExceptionFallback, MaxCharCount, ReplacementFallback: AssemblyInfo mscorlib "
    "2.0.0.0/2.0.5.0/4.0.0.0 (no 1.0.5000.0)",
    {"ExceptionFallback": "2.0"},
)
T["System.Text.EncoderFallback"] = read(
    "xml/System.Text/EncoderFallback.xml",
    "0313ebb69ff46ec3c0eefb6869d59aa83d3b6e3e",
    "2.0",
    "ExceptionFallback, MaxCharCount, ReplacementFallback: AssemblyInfo mscorlib 2.0.0.0/2.0.5.0/4.0.0.0 (no 1.0.5000.0)",
    {"ExceptionFallback": "2.0"},
)
T["System.Text.UTF8Encoding"] = read(
    "xml/System.Text/UTF8Encoding.xml",
    "0267688addc3b2f9cbfac6dbcbee80a77328109a",
    "1.1",
    ".ctor(), .ctor(Boolean), .ctor(Boolean, Boolean): AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0; Equals C# "
    "signature FrameworkAlternate netframework-1.1...",
    {".ctor": "1.1"},
)
T["System.Text.UnicodeEncoding"] = read(
    "xml/System.Text/UnicodeEncoding.xml",
    C0680,
    "1.1",
    ".ctor() and .ctor(Boolean, Boolean): AssemblyInfo mscorlib 1.0.5000.0/2.0.0.0/2.0.5.0/4.0.0.0; .ctor(Boolean, Boolean, "
    "Boolean): mscorlib 2.0.0.0/2.0.5.0/4.0.0.0, Parameter FrameworkAlternate from netframework-2.0 (2.0)",
    {".ctor": "1.1"},
)
core = {
    "System.SystemException": ("1.1", {}),
    "System.Security.Principal.IdentityNotMappedException": ("2.0", {}),
    "Microsoft.Win32.RegistryKeyPermissionCheck": (
        "2.0",
        {"ReadWriteSubTree": "2.0", "ReadSubTree": "2.0", "Default": "2.0"},
    ),
    "System.Security.AccessControl.AccessControlSections": ("2.0", {"Access": "2.0", "All": "2.0"}),
    "System.Security.AccessControl.AccessControlType": ("2.0", {"Allow": "2.0", "Deny": "2.0"}),
    "System.Security.AccessControl.InheritanceFlags": (
        "2.0",
        {"ContainerInherit": "2.0", "ObjectInherit": "2.0", "None": "2.0"},
    ),
    "System.Security.AccessControl.PropagationFlags": (
        "2.0",
        {"InheritOnly": "2.0", "None": "2.0", "NoPropagateInherit": "2.0"},
    ),
    "System.Security.AccessControl.RegistryAccessRule": ("2.0", {".ctor": "2.0"}),
    "System.Security.AccessControl.RegistryRights": ("2.0", {"FullControl": "2.0", "ReadKey": "2.0"}),
    "System.Security.AccessControl.RegistrySecurity": ("2.0", {".ctor": "2.0"}),
    "System.ServiceProcess.ServiceControllerStatus": (
        "1.1",
        {
            m: "1.1"
            for m in ["Paused", "Running", "StopPending", "Stopped", "StartPending", "ContinuePending", "PausePending"]
        },
    ),
    "Microsoft.Win32.Registry": ("1.1", {"LocalMachine": "1.1"}),
    "Microsoft.Win32.RegistryHive": ("1.1", {"LocalMachine": "1.1"}),
    "Microsoft.Win32.RegistryValueKind": (
        "2.0",
        {"DWord": "2.0", "String": "2.0", "ExpandString": "2.0", "MultiString": "2.0", "Binary": "2.0", "QWord": "2.0"},
    ),
    "System.ArgumentException": ("1.1", {".ctor": "1.1"}),
    "System.ArgumentNullException": ("1.1", {".ctor": "1.1"}),
    "System.Array": ("1.1", {"Copy": "1.1", "IndexOf": "1.1", "Reverse": "1.1"}),
    "System.BitConverter": ("1.1", {"ToString": "1.1", "ToUInt32": "1.1"}),
    "System.Boolean": ("1.1", {}),
    "System.Byte": ("1.1", {"Parse": "1.1", "ToString": "1.1"}),
    "System.Char": ("1.1", {"IsLetter": "1.1", "ToLowerInvariant": "2.0", "ToUpperInvariant": "2.0"}),
    "System.Collections.Generic.List`1": (
        "2.0",
        {".ctor": "2.0", "Add": "2.0", "Clear": "2.0", "Count": "2.0", "GetEnumerator": "2.0", "ToArray": "2.0"},
    ),
    "System.Collections.Generic.List`1+Enumerator": ("2.0", {"Current": "2.0", "MoveNext": "2.0"}),
    "System.Collections.Hashtable": ("1.1", {}),
    "System.Collections.IEnumerator": ("1.1", {"Current": "1.1", "MoveNext": "1.1"}),
    "System.Collections.ReadOnlyCollectionBase": ("1.1", {"GetEnumerator": "1.1"}),
    "System.Collections.Specialized.OrderedDictionary": ("2.0", {}),
    "System.ComponentModel.Win32Exception": ("1.1", {".ctor": "1.1"}),
    "System.Convert": ("1.1", {"FromBase64String": "1.1", "ToBase64String": "1.1", "ToByte": "1.1"}),
    "System.DateTime": ("1.1", {"Now": "1.1", "UtcNow": "1.1"}),
    "System.Enum": ("1.1", {"GetNames": "1.1"}),
    "System.Environment": ("1.1", {"ExpandEnvironmentVariables": "1.1", "OSVersion": "1.1", "GetFolderPath": "1.1"}),
    "System.Exception": ("1.1", {"Message": "1.1"}),
    "System.FormatException": ("1.1", {}),
    "System.Globalization.CultureInfo": ("1.1", {"InvariantCulture": "1.1"}),
    "System.Guid": ("1.1", {"Empty": "1.1"}),
    "System.IDisposable": ("1.1", {"Dispose": "1.1"}),
    "System.IO.DirectoryNotFoundException": ("1.1", {}),
    "System.IO.FileNotFoundException": ("1.1", {}),
    "System.IO.File": (
        "1.1",
        {"Copy": "1.1", "Move": "1.1", "ReadAllBytes": "2.0", "Replace": "2.0", "WriteAllBytes": "2.0"},
    ),
    "System.IO.Path": ("1.1", {"GetRandomFileName": "2.0"}),
    "System.Int16": ("1.1", {}),
    "System.Int32": ("1.1", {"ToString": "1.1", "TryParse": "2.0"}),
    "System.Int64": ("1.1", {}),
    "System.IntPtr": (
        "1.1",
        {
            ".ctor": "1.1",
            "ToInt32": "1.1",
            "ToInt64": "1.1",
            "Zero": "1.1",
            "op_Equality": "1.1",
            "op_Inequality": "1.1",
            "Size": "1.1",
        },
    ),
    "System.Math": ("1.1", {"Floor": "1.1", "Min": "1.1", "Max": "1.1"}),
    "System.Net.IPAddress": ("1.1", {".ctor": "1.1", "TryParse": "1.1"}),
    "System.Net.Sockets.AddressFamily": ("1.1", {"InterNetworkV6": "1.1"}),
    "System.Nullable`1": ("2.0", {".ctor": "2.0"}),
    "System.Object": ("1.1", {".ctor": "1.1", "ToString": "1.1"}),
    "System.Runtime.CompilerServices.RuntimeHelpers": ("1.1", {"InitializeArray": "1.1"}),
    "System.Runtime.InteropServices.GCHandle": ("1.1", {"AddrOfPinnedObject": "1.1", "Alloc": "1.1", "Free": "1.1"}),
    "System.Runtime.InteropServices.Marshal": (
        "1.1",
        {
            m: "1.1"
            for m in [
                "AllocHGlobal",
                "Copy",
                "FreeHGlobal",
                "GetLastWin32Error",
                "OffsetOf",
                "PtrToStringUni",
                "PtrToStructure",
                "ReadByte",
                "ReadInt16",
                "ReadInt32",
                "ReadIntPtr",
                "SizeOf",
                "StringToHGlobalUni",
                "StructureToPtr",
                "WriteInt32",
                "WriteIntPtr",
            ]
        },
    ),
    "System.Security.AccessControl.AccessRule": ("2.0", {"AccessControlType": "2.0"}),
    "System.Security.AccessControl.AuthorizationRule": ("2.0", {"IdentityReference": "2.0"}),
    "System.Security.AccessControl.CommonObjectSecurity": ("2.0", {"GetAccessRules": "2.0"}),
    "System.Security.AccessControl.FileSecurity": ("2.0", {".ctor": "2.0"}),
    "System.Security.AccessControl.FileSystemAccessRule": ("2.0", {".ctor": "2.0", "FileSystemRights": "2.0"}),
    "System.Security.AccessControl.FileSystemRights": (
        "2.0",
        {"FullControl": "2.0", "Read": "2.0", "ReadAndExecute": "2.0", "Modify": "2.0"},
    ),
    "System.Security.AccessControl.FileSystemSecurity": ("2.0", {"AddAccessRule": "2.0"}),
    "System.Security.AccessControl.ObjectSecurity": (
        "2.0",
        {
            "AccessRuleFactory": "2.0",
            "SetAccessRuleProtection": "2.0",
            "GetSecurityDescriptorBinaryForm": "2.0",
            "SetSecurityDescriptorBinaryForm": "2.0",
        },
    ),
    "System.Security.Cryptography.AsymmetricAlgorithm": ("1.1", {"KeySize": "1.1"}),
    "System.Security.Cryptography.CngKeyOpenOptions": ("3.5", {}),
    "System.Security.Cryptography.CryptographicException": ("1.1", {".ctor": "1.1"}),
    "System.Security.Cryptography.CspKeyContainerInfo": ("2.0", {".ctor": "2.0", "Exportable": "2.0"}),
    "System.Security.Cryptography.CspParameters": ("1.1", {".ctor": "1.1", "Flags": "1.1", "KeyNumber": "1.1"}),
    "System.Security.Cryptography.RSACryptoServiceProvider": ("1.1", {".ctor": "1.1", "PersistKeyInCsp": "1.1"}),
    "System.Security.Cryptography.SHA256": ("1.1", {"Create": "1.1"}),
    "System.Security.Cryptography.X509Certificates.OpenFlags": (
        "2.0",
        {"OpenExistingOnly": "2.0", "ReadOnly": "2.0", "ReadWrite": "2.0"},
    ),
    "System.Security.Cryptography.X509Certificates.StoreLocation": ("2.0", {"LocalMachine": "2.0"}),
    "System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension": ("2.0", {}),
    "System.Security.Cryptography.X509Certificates.X509Certificate2Collection": (
        "2.0",
        {".ctor": "2.0", "Add": "2.0", "Import": "2.0", "Find": "2.0"},
    ),
    "System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension": ("2.0", {}),
    "System.Security.Cryptography.X509Certificates.X509FindType": ("2.0", {"FindByThumbprint": "2.0"}),
    "System.Security.Cryptography.X509Certificates.X509NameType": ("2.0", {"SimpleName": "2.0"}),
    "System.Security.Principal.IdentityReference": ("2.0", {"Equals": "2.0", "Translate": "2.0", "Value": "2.0"}),
    "System.Security.Principal.NTAccount": ("2.0", {".ctor": "2.0"}),
    "System.Security.Principal.SecurityIdentifier": ("2.0", {".ctor": "2.0"}),
    "System.String": (
        "1.1",
        {
            "Concat": "1.1",
            "Empty": "1.1",
            "Format": "1.1",
            "IndexOf": "1.1",
            "IsNullOrEmpty": "2.0",
            "IsNullOrWhiteSpace": "4.0",
            "Length": "1.1",
            "Substring": "1.1",
            "TrimEnd": "1.1",
            "Equals": "1.1",
            "op_Equality": "1.1",
        },
    ),
    "System.StringComparer": ("2.0", {"OrdinalIgnoreCase": "2.0"}),
    "System.StringComparison": ("2.0", {"Ordinal": "2.0", "OrdinalIgnoreCase": "2.0"}),
    "System.Text.DecoderFallback": ("2.0", {"ExceptionFallback": "2.0"}),
    "System.Text.EncoderFallback": ("2.0", {"ExceptionFallback": "2.0"}),
    "System.Text.Encoding": ("1.1", {"ASCII": "1.1", "GetEncoding": "1.1", "GetString": "1.1", "Unicode": "1.1"}),
    "System.Text.RegularExpressions.Match": ("1.1", {}),
    "System.Text.RegularExpressions.Regex": ("1.1", {"IsMatch": "1.1", "Match": "1.1", "Matches": "1.1"}),
    "System.Text.StringBuilder": ("1.1", {".ctor": "1.1", "Append": "1.1"}),
    "System.Text.UTF8Encoding": ("1.1", {".ctor": "1.1"}),
    "System.Text.UnicodeEncoding": ("1.1", {".ctor": "1.1"}),
    "System.TimeSpan": ("1.1", {"FromSeconds": "1.1"}),
    "System.Type": ("1.1", {"GetTypeFromHandle": "1.1"}),
    "System.UInt16": ("1.1", {}),
    "System.UInt32": ("1.1", {}),
    "System.ValueType": ("1.1", {}),
    "System.Void": ("1.1", {}),
}
for name, (since, members) in core.items():
    if name not in T:
        T[name] = unread(since, members)
        continue
    # A type read from its XML keeps its verified members; members used elsewhere that its XML reading did not cover
    # are added, and the evidence says they are not verified yet.
    extra = {m: v for m, v in members.items() if m not in T[name]["members"]}
    if extra:
        T[name]["members"].update(extra)
        T[name]["evidence"] += f"; not yet read: {', '.join(sorted(extra))}"
# Run record key and its ACL (security, _ApexOneRunRecord.psm1), read from the XML at the commit named.
T["Microsoft.Win32.RegistryKeyPermissionCheck"] = read(
    "xml/Microsoft.Win32/RegistryKeyPermissionCheck.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "2.0",
    "no FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0 and 4.0.0.0 for the type and each field",
    {"Default": "2.0", "ReadSubTree": "2.0", "ReadWriteSubTree": "2.0"},
)
T["System.Security.AccessControl.RegistrySecurity"] = read(
    "xml/System.Security.AccessControl/RegistrySecurity.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0, 2.0.5.0, 4.0.0.0 for the type and .ctor(); "
    "AddAccessRule, GetOwner, SetOwner, SetAccessRuleProtection, GetAccessRules, AreAccessRulesProtected are inherited "
    "from ObjectSecurity/CommonObjectSecurity (2.0)",
    {".ctor": "2.0", "AddAccessRule": "2.0", "SetOwner": "2.0", "GetOwner": "2.0", "SetAccessRuleProtection": "2.0",
     "GetAccessRules": "2.0", "AreAccessRulesProtected": "2.0"},
)
T["System.Security.AccessControl.RegistryAccessRule"] = read(
    "xml/System.Security.AccessControl/RegistryAccessRule.xml",
    "0305a2d57b63b5ed07cd590f0061cb6343234b42",
    "2.0",
    "no netframework FrameworkAlternate; AssemblyInfo mscorlib 2.0.0.0, 2.0.5.0, 4.0.0.0 for the type and every .ctor",
    {".ctor": "2.0", "RegistryRights": "2.0"},
)
for name, members in {
    "Microsoft.Win32.RegistryValueOptions": {"None": "2.0", "DoNotExpandEnvironmentNames": "2.0"},
    "System.Security.AccessControl.AccessControlSections": {"None": "2.0", "Audit": "2.0", "Access": "2.0",
                                                            "Owner": "2.0", "Group": "2.0", "All": "2.0"},
    "System.Security.AccessControl.AccessControlType": {"Allow": "2.0", "Deny": "2.0"},
    "System.Security.AccessControl.InheritanceFlags": {"None": "2.0", "ContainerInherit": "2.0", "ObjectInherit": "2.0"},
    "System.Security.AccessControl.PropagationFlags": {"None": "2.0", "NoPropagateInherit": "2.0", "InheritOnly": "2.0"},
    "System.Security.AccessControl.RegistryRights": {"FullControl": "2.0", "ReadKey": "2.0", "WriteKey": "2.0",
                                                     "ChangePermissions": "2.0", "TakeOwnership": "2.0"},
}.items():
    T.setdefault(name, unread("2.0", members))
doc = {
    "description": (
        "Availability in .NET Framework of the .NET types and members the collection's C# and PowerShell use "
        "(tests/unit/powershell/dotnet_api.py); 'since' is the first .NET Framework version that has the type or member. "
        "Windows PowerShell 5.1 needs .NET Framework 4.5.2, so anything with 'since' above 4.5.2 must not be used, or only "
        "behind a feature check."
    ),
    "source": {"repository": R, "files": "xml/<namespace>/<type>.xml"},
    "reduction": (
        "Entries with verified=true were reduced from the type's XML at the named path and commit: a type's or member's "
        "frameworks are the netframework monikers of its own FrameworkAlternate attributes (TypeSignature, MemberSignature, "
        "Parameter, Attribute) when it has any, else the .NET Framework assembly versions of its AssemblyInfo (mscorlib/System/"
        "System.Core 1.0.5000.0 = 1.1, 2.0.0.0 = 2.0, 3.5.0.0 = 3.5, 4.0.0.0 = 4.x), and remarks that state a version. "
        "The per-framework member index of dotnet-api-docs is not usable here (the stored xml/FrameworksIndex has no "
        "netframework-4.5.2.xml, and its netframework-1.1.xml lists assemblies only; the repository is too large to fetch), "
        "so entries with verified=false are the .NET 1.1-3.5 era types whose XML has not been read yet; their 'since' is to "
        "be confirmed from the same XML files. A verified entry whose evidence ends in 'not yet read: ...' names the members "
        "its XML reading did not reach (large files are read a page at a time)."
    ),
    "target": "4.5.2",
    "types": dict(sorted(T.items())),
}
with open("tests/reference/dotnet_api.json", "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(len(T))
