// Copyright: (c) 2025, apexone.certificates maintainers
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// Note: This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
//       Do not depend on these classes from other collections; the API can change without notice.
//
// The private key of a certificate, read the way Windows links them: the certificate's
// CRYPT_KEY_PROV_INFO property (CertGetCertificateContextProperty, CERT_KEY_PROV_INFO_PROP_ID) names the
// provider and the key container; dwProvType 0 means a CNG key storage provider, anything else a legacy
// CryptoAPI provider of that type. The key is then opened through exactly that provider
// (CryptAcquireContext or NCryptOpenStorageProvider + NCryptOpenKey) and its access list read from the
// key's own security descriptor (CryptGetProvParam PP_KEYSET_SEC_DESCR, NCryptGetProperty "Security
// Descr"), never from a guessed key file. Nothing here needs .NET 4.6: RSACertificateExtensions
// (GetRSAPrivateKey) is not used, because it needs .NET 4.6 and, on 4.6+, opens legacy keys through CNG so
// that their type no longer tells CSP from CNG.
//
// Used by win_webhost_cert (import, provider, key readers), win_server_info and win_iis_https_binding
// (key inspection) with:
//   #AnsibleRequires -CSharpUtil ..module_utils._ApexOneCertKey
// and [ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey.CertKey]::Describe($cert, $true).
//
// Written for the C# 5 compiler of .NET Framework (no string interpolation, no ?.).

using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Principal;
using System.Text;

namespace ansible_collections.apexone.certificates.plugins.module_utils._ApexOneCertKey
{
    // CRYPT_KEY_PROV_INFO, the link from a certificate to its private key.
    public class KeyProvInfo
    {
        public string ContainerName;
        public string ProviderName;
        // 0 for a CNG key storage provider, else the CryptoAPI provider type (1 PROV_RSA_FULL, 24 PROV_RSA_AES...)
        public uint ProviderType;
        // CRYPT_MACHINE_KEYSET (0x20) and friends
        public uint Flags;
        public uint KeySpec;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CRYPT_KEY_PROV_INFO
    {
        public IntPtr pwszContainerName;
        public IntPtr pwszProvName;
        public uint dwProvType;
        public uint dwFlags;
        public uint cProvParam;
        public IntPtr rgProvParam;
        public uint dwKeySpec;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CRYPT_DATA_BLOB
    {
        public int cbData;
        public IntPtr pbData;
    }

    internal static class NativeMethods
    {
        [DllImport("crypt32.dll", SetLastError = true)]
        public static extern bool CertGetCertificateContextProperty(IntPtr pCertContext, uint dwPropId, IntPtr pvData,
            ref uint pcbData);

        [DllImport("crypt32.dll", SetLastError = true)]
        public static extern bool CertSetCertificateContextProperty(IntPtr pCertContext, uint dwPropId, uint dwFlags,
            IntPtr pvData);

        [DllImport("crypt32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        public static extern IntPtr PFXImportCertStore(ref CRYPT_DATA_BLOB pPFX, string szPassword, uint dwFlags);

        [DllImport("crypt32.dll", SetLastError = true)]
        public static extern IntPtr CertEnumCertificatesInStore(IntPtr hCertStore, IntPtr pPrevCertContext);

        [DllImport("crypt32.dll", SetLastError = true)]
        public static extern bool CertCloseStore(IntPtr hCertStore, uint dwFlags);

        [DllImport("crypt32.dll", SetLastError = true)]
        public static extern bool CryptAcquireCertificatePrivateKey(IntPtr pCert, uint dwFlags, IntPtr pvParameters,
            out IntPtr phCryptProvOrNCryptKey, out uint pdwKeySpec, out bool pfCallerFreeProvOrNCryptKey);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptReleaseContext(IntPtr hProv, uint dwFlags);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptGetProvParam(IntPtr hProv, uint dwParam, byte[] pbData, ref uint pdwDataLen,
            uint dwFlags);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptSetProvParam(IntPtr hProv, uint dwParam, byte[] pbData, uint dwFlags);

        [DllImport("ncrypt.dll", CharSet = CharSet.Unicode)]
        public static extern int NCryptGetProperty(IntPtr hObject, string pszProperty, byte[] pbOutput, uint cbOutput,
            out uint pcbResult, uint dwFlags);

        [DllImport("ncrypt.dll", CharSet = CharSet.Unicode)]
        public static extern int NCryptSetProperty(IntPtr hObject, string pszProperty, byte[] pbInput, uint cbInput,
            uint dwFlags);

        [DllImport("ncrypt.dll")]
        public static extern int NCryptFreeObject(IntPtr hObject);

        [DllImport("ncrypt.dll", CharSet = CharSet.Unicode)]
        public static extern int NCryptOpenStorageProvider(out IntPtr phProvider, string pszProviderName, uint dwFlags);

        [DllImport("ncrypt.dll", CharSet = CharSet.Unicode)]
        public static extern int NCryptOpenKey(IntPtr hProvider, out IntPtr phKey, string pszKeyName, uint dwLegacyKeySpec,
            uint dwFlags);

        [DllImport("ncrypt.dll")]
        public static extern int NCryptDeleteKey(IntPtr hKey, uint dwFlags);

        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode, EntryPoint = "CryptAcquireContextW")]
        public static extern bool CryptAcquireContext(out IntPtr phProv, string szContainer, string szProvider, uint dwProvType,
            uint dwFlags);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptGetUserKey(IntPtr hProv, uint dwKeySpec, out IntPtr phUserKey);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptGetKeyParam(IntPtr hKey, uint dwParam, byte[] pbData, ref uint pdwDataLen, uint dwFlags);

        [DllImport("advapi32.dll", SetLastError = true)]
        public static extern bool CryptDestroyKey(IntPtr hKey);
    }

    /// <summary>The CryptoAPI / CNG calls that read and delete keys (an interface so that tests can use a fake).</summary>
    internal interface ICryptoApi
    {
        bool CertGetCertificateContextProperty(IntPtr pCertContext, uint dwPropId, IntPtr pvData, ref uint pcbData);
        bool CryptAcquireContext(out IntPtr phProv, string szContainer, string szProvider, uint dwProvType, uint dwFlags);
        bool CryptGetProvParam(IntPtr hProv, uint dwParam, byte[] pbData, ref uint pdwDataLen, uint dwFlags);
        bool CryptGetUserKey(IntPtr hProv, uint dwKeySpec, out IntPtr phUserKey);
        bool CryptGetKeyParam(IntPtr hKey, uint dwParam, byte[] pbData, ref uint pdwDataLen, uint dwFlags);
        bool CryptDestroyKey(IntPtr hKey);
        bool CryptReleaseContext(IntPtr hProv, uint dwFlags);
        int NCryptOpenStorageProvider(out IntPtr phProvider, string pszProviderName, uint dwFlags);
        int NCryptOpenKey(IntPtr hProvider, out IntPtr phKey, string pszKeyName, uint dwLegacyKeySpec, uint dwFlags);
        int NCryptGetProperty(IntPtr hObject, string pszProperty, byte[] pbOutput, uint cbOutput, out uint pcbResult, uint dwFlags);
        int NCryptDeleteKey(IntPtr hKey, uint dwFlags);
        int NCryptFreeObject(IntPtr hObject);
    }

    internal sealed class NativeCryptoApi : ICryptoApi
    {
        public bool CertGetCertificateContextProperty(IntPtr pCertContext, uint dwPropId, IntPtr pvData, ref uint pcbData)
        {
            return NativeMethods.CertGetCertificateContextProperty(pCertContext, dwPropId, pvData, ref pcbData);
        }

        public bool CryptAcquireContext(out IntPtr phProv, string szContainer, string szProvider, uint dwProvType, uint dwFlags)
        {
            return NativeMethods.CryptAcquireContext(out phProv, szContainer, szProvider, dwProvType, dwFlags);
        }

        public bool CryptGetProvParam(IntPtr hProv, uint dwParam, byte[] pbData, ref uint pdwDataLen, uint dwFlags)
        {
            return NativeMethods.CryptGetProvParam(hProv, dwParam, pbData, ref pdwDataLen, dwFlags);
        }

        public bool CryptGetUserKey(IntPtr hProv, uint dwKeySpec, out IntPtr phUserKey)
        {
            return NativeMethods.CryptGetUserKey(hProv, dwKeySpec, out phUserKey);
        }

        public bool CryptGetKeyParam(IntPtr hKey, uint dwParam, byte[] pbData, ref uint pdwDataLen, uint dwFlags)
        {
            return NativeMethods.CryptGetKeyParam(hKey, dwParam, pbData, ref pdwDataLen, dwFlags);
        }

        public bool CryptDestroyKey(IntPtr hKey)
        {
            return NativeMethods.CryptDestroyKey(hKey);
        }

        public bool CryptReleaseContext(IntPtr hProv, uint dwFlags)
        {
            return NativeMethods.CryptReleaseContext(hProv, dwFlags);
        }

        public int NCryptOpenStorageProvider(out IntPtr phProvider, string pszProviderName, uint dwFlags)
        {
            return NativeMethods.NCryptOpenStorageProvider(out phProvider, pszProviderName, dwFlags);
        }

        public int NCryptOpenKey(IntPtr hProvider, out IntPtr phKey, string pszKeyName, uint dwLegacyKeySpec, uint dwFlags)
        {
            return NativeMethods.NCryptOpenKey(hProvider, out phKey, pszKeyName, dwLegacyKeySpec, dwFlags);
        }

        public int NCryptGetProperty(IntPtr hObject, string pszProperty, byte[] pbOutput, uint cbOutput, out uint pcbResult, uint dwFlags)
        {
            return NativeMethods.NCryptGetProperty(hObject, pszProperty, pbOutput, cbOutput, out pcbResult, dwFlags);
        }

        public int NCryptDeleteKey(IntPtr hKey, uint dwFlags)
        {
            return NativeMethods.NCryptDeleteKey(hKey, dwFlags);
        }

        public int NCryptFreeObject(IntPtr hObject)
        {
            return NativeMethods.NCryptFreeObject(hObject);
        }
    }

    /// <summary>One access rule of a private key's DACL.</summary>
    public class KeyAccessRule
    {
        /// <summary>The account name (DOMAIN\\name), or the SID string when it does not translate.</summary>
        public string Identity;
        public string Sid;
        /// <summary>The rights as FileSystemRights names (what Get-Acl shows for a key file).</summary>
        public string Rights;
        /// <summary>'allow' or 'deny'.</summary>
        public string Type;
    }

    /// <summary>Where and how a certificate's private key is stored, and who may read it.</summary>
    public class PrivateKeyInfo
    {
        /// <summary>'csp' (legacy CryptoAPI provider) or 'cng' (key storage provider): CRYPT_KEY_PROV_INFO.dwProvType 0 is CNG.</summary>
        public string ProviderType;
        public string Provider;
        /// <summary>The CryptoAPI provider type (24 PROV_RSA_AES...), 0 for CNG.</summary>
        public uint CspType;
        /// <summary>The key container (CSP) or key name (CNG) from CRYPT_KEY_PROV_INFO.</summary>
        public string Container;
        /// <summary>The unique container name (the key file name under ProgramData\\Microsoft\\Crypto), null when unreadable.</summary>
        public string UniqueName;
        public bool MachineKey;
        public bool? Exportable;
        /// <summary>The key's DACL; null when not asked for or not readable (then Error says why).</summary>
        public List<KeyAccessRule> Acl;
        public string Error;
    }

    public static class CertKey
    {
        /// <summary>The key-reading calls; tests replace them with a fake.</summary>
        internal static ICryptoApi Api = new NativeCryptoApi();

        private const uint CERT_KEY_PROV_INFO_PROP_ID = 2;
        private const uint CERT_KEY_CONTEXT_PROP_ID = 5;
        private const uint CERT_NCRYPT_KEY_HANDLE_PROP_ID = 78;
        private const uint CERT_NCRYPT_KEY_HANDLE_TRANSFER_PROP_ID = 99;
        private const uint CRYPT_ACQUIRE_SILENT_FLAG = 0x40;
        private const uint CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG = 0x10000;
        private const uint CERT_NCRYPT_KEY_SPEC = 0xFFFFFFFF;
        private const uint PP_KEYSET_SEC_DESCR = 8;
        private const uint DACL_SECURITY_INFORMATION = 4;
        private const uint NCRYPT_SILENT_FLAG = 0x40;
        private const uint NCRYPT_MACHINE_KEY_FLAG = 0x20;
        private const uint CRYPT_SILENT = 0x40;
        private const uint CRYPT_DELETEKEYSET = 0x10;
        private const uint PP_UNIQUE_CONTAINER = 36;
        private const uint KP_PERMISSIONS = 6;
        private const uint CRYPT_EXPORT = 0x4;
        private const string NCRYPT_UNIQUE_NAME_PROPERTY = "Unique Name";
        private const string NCRYPT_EXPORT_POLICY_PROPERTY = "Export Policy";
        private const uint NCRYPT_ALLOW_EXPORT_FLAG = 0x1;
        private const uint NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG = 0x2;
        private const string NCRYPT_SECURITY_DESCR_PROPERTY = "Security Descr";
        // GENERIC_READ | FILE_GENERIC_READ, what ansible.windows win_acl grants as 'Read' on a key.
        private const int ReadAccessMask = unchecked((int)0x80120089);

        public const uint CRYPT_EXPORTABLE = 0x1;
        public const uint CRYPT_MACHINE_KEYSET = 0x20;
        public const uint PKCS12_ALWAYS_CNG_KSP = 0x200;

        /// <summary>Whether the certificate context has a private key attached (persisted or not).</summary>
        public static bool HasKey(X509Certificate2 certificate)
        {
            foreach (uint id in new uint[] { CERT_KEY_PROV_INFO_PROP_ID, CERT_KEY_CONTEXT_PROP_ID,
                CERT_NCRYPT_KEY_HANDLE_PROP_ID, CERT_NCRYPT_KEY_HANDLE_TRANSFER_PROP_ID })
            {
                uint size = 0;
                if (Api.CertGetCertificateContextProperty(certificate.Handle, id, IntPtr.Zero, ref size))
                    return true;
            }
            return false;
        }

        /// <summary>The CRYPT_KEY_PROV_INFO of the certificate, or null when it has none.</summary>
        public static KeyProvInfo GetKeyProvInfo(X509Certificate2 certificate)
        {
            uint size = 0;
            if (!Api.CertGetCertificateContextProperty(certificate.Handle, CERT_KEY_PROV_INFO_PROP_ID,
                    IntPtr.Zero, ref size))
                return null;
            IntPtr buffer = Marshal.AllocHGlobal((int)size);
            try
            {
                if (!Api.CertGetCertificateContextProperty(certificate.Handle, CERT_KEY_PROV_INFO_PROP_ID,
                        buffer, ref size))
                    throw new Win32Exception(Marshal.GetLastWin32Error(), "CertGetCertificateContextProperty failed");
                CRYPT_KEY_PROV_INFO raw = (CRYPT_KEY_PROV_INFO)Marshal.PtrToStructure(buffer, typeof(CRYPT_KEY_PROV_INFO));
                KeyProvInfo info = new KeyProvInfo();
                info.ContainerName = raw.pwszContainerName == IntPtr.Zero ? null : Marshal.PtrToStringUni(raw.pwszContainerName);
                info.ProviderName = raw.pwszProvName == IntPtr.Zero ? null : Marshal.PtrToStringUni(raw.pwszProvName);
                info.ProviderType = raw.dwProvType;
                info.Flags = raw.dwFlags;
                info.KeySpec = raw.dwKeySpec;
                return info;
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
            }
        }

        /// <summary>
        /// Describes the persisted private key of a certificate from its CRYPT_KEY_PROV_INFO, opening the key
        /// through the provider named there. Returns null when the certificate has no CRYPT_KEY_PROV_INFO.
        /// Facts that cannot be read (access denied, missing container) leave their field null and set Error.
        /// </summary>
        public static PrivateKeyInfo Describe(X509Certificate2 certificate, bool readAcl)
        {
            KeyProvInfo prov = GetKeyProvInfo(certificate);
            if (prov == null)
                return null;
            PrivateKeyInfo info = new PrivateKeyInfo();
            info.ProviderType = prov.ProviderType == 0 ? "cng" : "csp";
            info.Provider = prov.ProviderName;
            info.CspType = prov.ProviderType;
            info.Container = prov.ContainerName;
            info.MachineKey = (prov.Flags & CRYPT_MACHINE_KEYSET) != 0;
            try
            {
                if (prov.ProviderType == 0)
                    DescribeCng(prov, info, readAcl);
                else
                    DescribeCsp(prov, info, readAcl);
            }
            catch (Exception e)
            {
                info.Error = "Cannot read the private key " + info.Container + " (" + info.Provider + "): " + e.Message;
            }
            return info;
        }

        /// <summary>
        /// Deletes the key container or CNG key a CRYPT_KEY_PROV_INFO names (for a certificate that is being
        /// removed, or a failed import). Returns false when the key does not exist.
        /// </summary>
        public static bool DeleteKey(KeyProvInfo prov)
        {
            if (prov == null)
                return false;
            if (prov.ProviderType == 0)
            {
                IntPtr provider;
                int status = Api.NCryptOpenStorageProvider(out provider, prov.ProviderName, 0);
                if (status != 0)
                    throw new Win32Exception(status, "NCryptOpenStorageProvider(" + prov.ProviderName + ") failed");
                try
                {
                    IntPtr key;
                    status = Api.NCryptOpenKey(provider, out key, prov.ContainerName, prov.KeySpec,
                        CngFlags(prov));
                    if (status != 0)
                        return false;
                    // NCryptDeleteKey frees the handle when it succeeds
                    status = Api.NCryptDeleteKey(key, NCRYPT_SILENT_FLAG);
                    if (status != 0)
                    {
                        Api.NCryptFreeObject(key);
                        throw new Win32Exception(status, "NCryptDeleteKey(" + prov.ContainerName + ") failed");
                    }
                    return true;
                }
                finally
                {
                    Api.NCryptFreeObject(provider);
                }
            }
            IntPtr unused;
            if (!Api.CryptAcquireContext(out unused, prov.ContainerName, prov.ProviderName, prov.ProviderType,
                    CspFlags(prov) | CRYPT_DELETEKEYSET))
            {
                int error = Marshal.GetLastWin32Error();
                if (error == unchecked((int)0x80090016))  // NTE_BAD_KEYSET: no such container
                    return false;
                throw new Win32Exception(error, "CryptAcquireContext(CRYPT_DELETEKEYSET, " + prov.ContainerName + ") failed");
            }
            return true;
        }

        private static uint CngFlags(KeyProvInfo prov)
        {
            return ((prov.Flags & CRYPT_MACHINE_KEYSET) != 0 ? NCRYPT_MACHINE_KEY_FLAG : 0) | NCRYPT_SILENT_FLAG;
        }

        private static uint CspFlags(KeyProvInfo prov)
        {
            return ((prov.Flags & CRYPT_MACHINE_KEYSET) != 0 ? CRYPT_MACHINE_KEYSET : 0) | CRYPT_SILENT;
        }

        private static void DescribeCng(KeyProvInfo prov, PrivateKeyInfo info, bool readAcl)
        {
            IntPtr provider;
            int status = Api.NCryptOpenStorageProvider(out provider, prov.ProviderName, 0);
            if (status != 0)
                throw new Win32Exception(status, "NCryptOpenStorageProvider failed");
            try
            {
                IntPtr key;
                status = Api.NCryptOpenKey(provider, out key, prov.ContainerName, prov.KeySpec, CngFlags(prov));
                if (status != 0)
                    throw new Win32Exception(status, "NCryptOpenKey failed");
                try
                {
                    byte[] unique = GetNCryptProperty(key, NCRYPT_UNIQUE_NAME_PROPERTY, 0);
                    info.UniqueName = Encoding.Unicode.GetString(unique).TrimEnd('\0');
                    byte[] policy = GetNCryptProperty(key, NCRYPT_EXPORT_POLICY_PROPERTY, 0);
                    if (policy.Length >= 4)
                        info.Exportable = (BitConverter.ToUInt32(policy, 0) &
                            (NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG)) != 0;
                    if (readAcl)
                        info.Acl = ReadAcl(GetSecurityDescriptor(key, true));
                }
                finally
                {
                    Api.NCryptFreeObject(key);
                }
            }
            finally
            {
                Api.NCryptFreeObject(provider);
            }
        }

        private static void DescribeCsp(KeyProvInfo prov, PrivateKeyInfo info, bool readAcl)
        {
            IntPtr handle;
            if (!Api.CryptAcquireContext(out handle, prov.ContainerName, prov.ProviderName, prov.ProviderType,
                    CspFlags(prov)))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "CryptAcquireContext failed");
            try
            {
                uint size = 0;
                if (Api.CryptGetProvParam(handle, PP_UNIQUE_CONTAINER, null, ref size, 0))
                {
                    byte[] unique = new byte[size];
                    if (Api.CryptGetProvParam(handle, PP_UNIQUE_CONTAINER, unique, ref size, 0))
                        info.UniqueName = Encoding.ASCII.GetString(unique, 0, (int)size).TrimEnd('\0');
                }
                IntPtr userKey;
                if (Api.CryptGetUserKey(handle, prov.KeySpec, out userKey))
                {
                    try
                    {
                        byte[] permissions = new byte[4];
                        uint length = 4;
                        if (Api.CryptGetKeyParam(userKey, KP_PERMISSIONS, permissions, ref length, 0))
                            info.Exportable = (BitConverter.ToUInt32(permissions, 0) & CRYPT_EXPORT) != 0;
                    }
                    finally
                    {
                        Api.CryptDestroyKey(userKey);
                    }
                }
                if (readAcl)
                    info.Acl = ReadAcl(GetSecurityDescriptor(handle, false));
            }
            finally
            {
                Api.CryptReleaseContext(handle, 0);
            }
        }

        private static byte[] GetNCryptProperty(IntPtr handle, string name, uint flags)
        {
            uint size;
            int status = Api.NCryptGetProperty(handle, name, null, 0, out size, flags | NCRYPT_SILENT_FLAG);
            if (status != 0)
                throw new Win32Exception(status, "NCryptGetProperty(" + name + ") failed");
            byte[] buffer = new byte[size];
            status = Api.NCryptGetProperty(handle, name, buffer, size, out size, flags | NCRYPT_SILENT_FLAG);
            if (status != 0)
                throw new Win32Exception(status, "NCryptGetProperty(" + name + ") failed");
            return buffer;
        }

        private static List<KeyAccessRule> ReadAcl(byte[] descriptor)
        {
            FileSecurity security = new FileSecurity();
            security.SetSecurityDescriptorBinaryForm(descriptor, AccessControlSections.Access);
            List<KeyAccessRule> rules = new List<KeyAccessRule>();
            foreach (FileSystemAccessRule rule in security.GetAccessRules(true, true, typeof(SecurityIdentifier)))
            {
                KeyAccessRule entry = new KeyAccessRule();
                SecurityIdentifier sid = (SecurityIdentifier)rule.IdentityReference;
                entry.Sid = sid.Value;
                try
                {
                    entry.Identity = sid.Translate(typeof(NTAccount)).Value;
                }
                catch (IdentityNotMappedException)
                {
                    entry.Identity = sid.Value;  // a deleted account, or one of an unreachable domain
                }
                catch (SystemException)
                {
                    entry.Identity = sid.Value;  // Translate fails with a SystemException when the lookup itself fails
                }
                entry.Rights = rule.FileSystemRights.ToString();
                entry.Type = rule.AccessControlType == AccessControlType.Allow ? "allow" : "deny";
                rules.Add(entry);
            }
            return rules;
        }

        /// <summary>Points the certificate at a key container through another provider (no provider parameters).</summary>
        public static void SetKeyProvInfo(X509Certificate2 certificate, KeyProvInfo info)
        {
            CRYPT_KEY_PROV_INFO raw = new CRYPT_KEY_PROV_INFO();
            raw.pwszContainerName = Marshal.StringToHGlobalUni(info.ContainerName);
            raw.pwszProvName = Marshal.StringToHGlobalUni(info.ProviderName);
            raw.dwProvType = info.ProviderType;
            raw.dwFlags = info.Flags;
            raw.cProvParam = 0;
            raw.rgProvParam = IntPtr.Zero;
            raw.dwKeySpec = info.KeySpec;
            IntPtr buffer = Marshal.AllocHGlobal(Marshal.SizeOf(typeof(CRYPT_KEY_PROV_INFO)));
            try
            {
                Marshal.StructureToPtr(raw, buffer, false);
                if (!NativeMethods.CertSetCertificateContextProperty(certificate.Handle, CERT_KEY_PROV_INFO_PROP_ID, 0, buffer))
                    throw new Win32Exception(Marshal.GetLastWin32Error(), "CertSetCertificateContextProperty failed");
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
                Marshal.FreeHGlobal(raw.pwszContainerName);
                Marshal.FreeHGlobal(raw.pwszProvName);
            }
        }

        /// <summary>Opens a CryptoAPI key container through the given provider: true when that works.</summary>
        public static bool CanOpenCspKey(KeyProvInfo info, string providerName, int providerType)
        {
            CspParameters parameters = new CspParameters(providerType, providerName, info.ContainerName);
            parameters.KeyNumber = (int)info.KeySpec;
            parameters.Flags = CspProviderFlags.UseExistingKey | CspProviderFlags.NoPrompt;
            if ((info.Flags & CRYPT_MACHINE_KEYSET) != 0)
                parameters.Flags |= CspProviderFlags.UseMachineKeyStore;
            try
            {
                using (RSACryptoServiceProvider rsa = new RSACryptoServiceProvider(parameters))
                {
                    rsa.PersistKeyInCsp = true;
                    return rsa.KeySize > 0;
                }
            }
            catch (Exception)
            {
                return false;
            }
        }

        /// <summary>Whether the private key may be exported; null when that cannot be read.</summary>
        public static bool? IsExportable(KeyProvInfo info)
        {
            try
            {
                if (info.ProviderType == 0)
                {
                    CngKeyOpenOptions options = (info.Flags & CRYPT_MACHINE_KEYSET) != 0
                        ? CngKeyOpenOptions.MachineKey : CngKeyOpenOptions.None;
                    using (CngKey key = CngKey.Open(info.ContainerName, new CngProvider(info.ProviderName), options | CngKeyOpenOptions.Silent))
                    {
                        return (key.ExportPolicy & (CngExportPolicies.AllowExport | CngExportPolicies.AllowPlaintextExport)) != 0;
                    }
                }
                CspParameters parameters = new CspParameters((int)info.ProviderType, info.ProviderName, info.ContainerName);
                parameters.KeyNumber = (int)info.KeySpec;
                parameters.Flags = CspProviderFlags.UseExistingKey | CspProviderFlags.NoPrompt;
                if ((info.Flags & CRYPT_MACHINE_KEYSET) != 0)
                    parameters.Flags |= CspProviderFlags.UseMachineKeyStore;
                return new CspKeyContainerInfo(parameters).Exportable;
            }
            catch (Exception)
            {
                return null;
            }
        }

        /// <summary>Deletes a persisted CNG key (a key this module has just imported and cannot use).</summary>
        public static void DeleteCngKey(KeyProvInfo info)
        {
            CngKeyOpenOptions options = (info.Flags & CRYPT_MACHINE_KEYSET) != 0
                ? CngKeyOpenOptions.MachineKey : CngKeyOpenOptions.None;
            using (CngKey key = CngKey.Open(info.ContainerName, new CngProvider(info.ProviderName), options | CngKeyOpenOptions.Silent))
            {
                key.Delete();
            }
        }

        /// <summary>Imports a PFX with PFXImportCertStore and the given flags (the keys are persisted).</summary>
        public static X509Certificate2Collection ImportPfx(byte[] pfx, string password, uint flags)
        {
            X509Certificate2Collection result = new X509Certificate2Collection();
            GCHandle pin = GCHandle.Alloc(pfx, GCHandleType.Pinned);
            try
            {
                CRYPT_DATA_BLOB blob = new CRYPT_DATA_BLOB();
                blob.cbData = pfx.Length;
                blob.pbData = pin.AddrOfPinnedObject();
                IntPtr store = NativeMethods.PFXImportCertStore(ref blob, password == null ? "" : password, flags);
                if (store == IntPtr.Zero && String.IsNullOrEmpty(password))
                {
                    // a PFX without password may have been protected with an empty or with a NULL password
                    store = NativeMethods.PFXImportCertStore(ref blob, null, flags);
                }
                if (store == IntPtr.Zero)
                {
                    int error = Marshal.GetLastWin32Error();
                    // a Win32 code (ERROR_INVALID_PASSWORD = 86) as HRESULT_FROM_WIN32, like .NET reports it
                    if (error > 0 && error < 0x10000)
                        error = unchecked((int)(0x80070000 | (uint)error));
                    throw new CryptographicException(error);
                }
                try
                {
                    IntPtr context = IntPtr.Zero;
                    while ((context = NativeMethods.CertEnumCertificatesInStore(store, context)) != IntPtr.Zero)
                        result.Add(new X509Certificate2(context));
                }
                finally
                {
                    NativeMethods.CertCloseStore(store, 0);
                }
            }
            finally
            {
                pin.Free();
            }
            return result;
        }

        /// <summary>
        /// The identities in sids that cannot read the private key yet. With apply, grants them read access
        /// (GENERIC_READ | FILE_GENERIC_READ) on the CSP or CNG key.
        /// </summary>
        public static List<string> GrantRead(X509Certificate2 certificate, SecurityIdentifier[] sids, bool apply)
        {
            List<string> missing = new List<string>();
            IntPtr handle;
            uint keySpec;
            bool free;
            if (!NativeMethods.CryptAcquireCertificatePrivateKey(certificate.Handle,
                    CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG, IntPtr.Zero, out handle, out keySpec, out free))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "CryptAcquireCertificatePrivateKey failed");
            bool ncrypt = keySpec == CERT_NCRYPT_KEY_SPEC;
            try
            {
                FileSecurity security = new FileSecurity();
                security.SetSecurityDescriptorBinaryForm(GetSecurityDescriptor(handle, ncrypt));
                foreach (SecurityIdentifier sid in sids)
                {
                    if (CanRead(security, sid))
                        continue;
                    missing.Add(sid.Value);
                    security.AddAccessRule((FileSystemAccessRule)security.AccessRuleFactory(sid, ReadAccessMask, false,
                        InheritanceFlags.None, PropagationFlags.None, AccessControlType.Allow));
                }
                if (apply && missing.Count > 0)
                    SetSecurityDescriptor(handle, ncrypt, security.GetSecurityDescriptorBinaryForm());
            }
            finally
            {
                if (free)
                {
                    if (ncrypt)
                        Api.NCryptFreeObject(handle);
                    else
                        Api.CryptReleaseContext(handle, 0);
                }
            }
            return missing;
        }

        private static bool CanRead(FileSecurity security, SecurityIdentifier sid)
        {
            foreach (FileSystemAccessRule rule in security.GetAccessRules(true, true, typeof(SecurityIdentifier)))
            {
                if (rule.AccessControlType != AccessControlType.Allow || !sid.Equals(rule.IdentityReference))
                    continue;
                uint mask = unchecked((uint)rule.FileSystemRights);
                // GENERIC_READ, GENERIC_ALL, or every bit of FILE_GENERIC_READ
                if ((mask & 0x80000000) != 0 || (mask & 0x10000000) != 0 || (mask & 0x120089) == 0x120089)
                    return true;
            }
            return false;
        }

        private static byte[] GetSecurityDescriptor(IntPtr handle, bool ncrypt)
        {
            uint size = 0;
            if (ncrypt)
            {
                int status = Api.NCryptGetProperty(handle, NCRYPT_SECURITY_DESCR_PROPERTY, null, 0, out size,
                    DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG);
                if (status != 0)
                    throw new Win32Exception(status, "NCryptGetProperty(Security Descr) failed");
                byte[] buffer = new byte[size];
                status = Api.NCryptGetProperty(handle, NCRYPT_SECURITY_DESCR_PROPERTY, buffer, size, out size,
                    DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG);
                if (status != 0)
                    throw new Win32Exception(status, "NCryptGetProperty(Security Descr) failed");
                return buffer;
            }
            if (!Api.CryptGetProvParam(handle, PP_KEYSET_SEC_DESCR, null, ref size, DACL_SECURITY_INFORMATION))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "CryptGetProvParam(PP_KEYSET_SEC_DESCR) failed");
            byte[] data = new byte[size];
            if (!Api.CryptGetProvParam(handle, PP_KEYSET_SEC_DESCR, data, ref size, DACL_SECURITY_INFORMATION))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "CryptGetProvParam(PP_KEYSET_SEC_DESCR) failed");
            return data;
        }

        private static void SetSecurityDescriptor(IntPtr handle, bool ncrypt, byte[] descriptor)
        {
            if (ncrypt)
            {
                int status = NativeMethods.NCryptSetProperty(handle, NCRYPT_SECURITY_DESCR_PROPERTY, descriptor,
                    (uint)descriptor.Length, DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG);
                if (status != 0)
                    throw new Win32Exception(status, "NCryptSetProperty(Security Descr) failed");
                return;
            }
            if (!NativeMethods.CryptSetProvParam(handle, PP_KEYSET_SEC_DESCR, descriptor, DACL_SECURITY_INFORMATION))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "CryptSetProvParam(PP_KEYSET_SEC_DESCR) failed");
        }
    }
}
