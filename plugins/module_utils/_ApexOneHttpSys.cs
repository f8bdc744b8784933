// Copyright: (c) 2025, apexone.certificates maintainers
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// Note: This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
//       Do not depend on these classes from other collections; the API can change without notice.
//
// The http.sys SSL configuration (what `netsh http show sslcert` prints), through the HTTP Server API
// instead of parsing netsh output, whose labels are translated on non-English Windows.
// Lists the IP:port (HttpServiceConfigSSLCertInfo), hostname:port (HttpServiceConfigSslSniCertInfo,
// Windows 8 / Server 2012 and later) and central certificate store (HttpServiceConfigSslCcsCertInfo)
// records with every field of HTTP_SERVICE_CONFIG_SSL_PARAM, and gives one record a new certificate.
//
// Changing a record: HttpUpdateServiceConfiguration (behind `netsh http update sslcert`) is documented
// from Windows 10 1703 only, so a record is replaced the way the HTTP Server API documents for every
// version ("To change a given configuration record, delete it and then recreate it",
// HttpSetServiceConfiguration): HttpDeleteServiceConfiguration, then HttpSetServiceConfiguration with
// every field of the old record copied (same key bytes, application id, check mode, revocation times,
// CTL identifier and store, flags) and only the hash and store name changed. When the set fails, the old
// record is set again and the error says whether that worked.
//
// Structure layouts are declared as C# structs and read with Marshal.SizeOf / Marshal.OffsetOf, so the
// offsets follow the pointer size (x86 and x64): SOCKADDR_STORAGE is 128 bytes and 8-byte aligned, so
// HTTP_SERVICE_CONFIG_SSL_SNI_KEY is Align(128 + IntPtr.Size, 8) = 136 bytes on both. The unit tests
// (tests/unit/powershell/test_csharp.py) compare every struct with the sizes from Microsoft's http.h.
//
// Use it from a module with:
//   #AnsibleRequires -CSharpUtil ..module_utils._ApexOneHttpSys
// and [ApexOne.HttpSys.SslConfig]::GetBindings() / [ApexOne.HttpSys.SslConfig]::SetCertificate(...).
//
// Written for the C# 5 compiler of .NET Framework (no string interpolation, no ?.) and for CoreCLR.

using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

//TypeAccelerator -Name ApexOne.HttpSys.SslConfig -TypeName SslConfig
//TypeAccelerator -Name ApexOne.HttpSys.SslCertBinding -TypeName SslCertBinding

namespace ansible_collections.apexone.certificates.plugins.module_utils._ApexOneHttpSys
{
    /// <summary>One http.sys SSL record.</summary>
    public class SslCertBinding
    {
        /// <summary>'ipport', 'hostnameport' or 'ccs', the netsh key word.</summary>
        public string Kind;
        /// <summary>The netsh key value: '0.0.0.0:443', '[::]:443', 'host.example:443' or '443' (ccs).</summary>
        public string Key;
        /// <summary>IP address without brackets ('0.0.0.0', '::', '10.0.0.5'); null for hostnameport.</summary>
        public string IPAddress;
        /// <summary>Host name of a hostnameport record, else null.</summary>
        public string HostName;
        public int Port;
        /// <summary>Upper-case hex of the certificate hash, null when the record has none (ccs).</summary>
        public string Thumbprint;
        /// <summary>Certificate store name; null means MY.</summary>
        public string StoreName;
        public Guid AppId;
        public uint CertCheckMode;
        public uint RevocationFreshnessTime;
        public uint RevocationUrlRetrievalTimeout;
        public string CtlIdentifier;
        public string CtlStoreName;
        public uint Flags;
        /// <summary>The SOCKADDR bytes of the record's key exactly as http.sys returned them.</summary>
        internal byte[] SockAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTPAPI_VERSION
    {
        public ushort HttpApiMajorVersion;
        public ushort HttpApiMinorVersion;

        public HTTPAPI_VERSION(ushort major, ushort minor)
        {
            HttpApiMajorVersion = major;
            HttpApiMinorVersion = minor;
        }
    }

    /// <summary>ws2def.h SOCKADDR_STORAGE: 128 bytes, aligned like an int64 (8 bytes on x86 and x64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SOCKADDR_STORAGE
    {
        public short ss_family;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 6)]
        public byte[] __ss_pad1;
        public long __ss_align;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 112)]
        public byte[] __ss_pad2;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_PARAM
    {
        public int SslHashLength;
        public IntPtr pSslHash;
        public Guid AppId;
        public IntPtr pSslCertStoreName;
        public uint DefaultCertCheckMode;
        public uint DefaultRevocationFreshnessTime;
        public uint DefaultRevocationUrlRetrievalTimeout;
        public IntPtr pDefaultSslCtlIdentifier;
        public IntPtr pDefaultSslCtlStoreName;
        public uint DefaultFlags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_KEY
    {
        public IntPtr pIpPort;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_SET
    {
        public HTTP_SERVICE_CONFIG_SSL_KEY KeyDesc;
        public HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_QUERY
    {
        public int QueryDesc;
        public HTTP_SERVICE_CONFIG_SSL_KEY KeyDesc;
        public uint dwToken;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_SNI_KEY
    {
        public SOCKADDR_STORAGE IpPort;
        public IntPtr Host;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_SNI_SET
    {
        public HTTP_SERVICE_CONFIG_SSL_SNI_KEY KeyDesc;
        public HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_SNI_QUERY
    {
        public int QueryDesc;
        public HTTP_SERVICE_CONFIG_SSL_SNI_KEY KeyDesc;
        public uint dwToken;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_CCS_KEY
    {
        public SOCKADDR_STORAGE LocalAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_CCS_SET
    {
        public HTTP_SERVICE_CONFIG_SSL_CCS_KEY KeyDesc;
        public HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct HTTP_SERVICE_CONFIG_SSL_CCS_QUERY
    {
        public int QueryDesc;
        public HTTP_SERVICE_CONFIG_SSL_CCS_KEY KeyDesc;
        public uint dwToken;
    }

    internal static class NativeMethods
    {
        [DllImport("httpapi.dll", SetLastError = true)]
        public static extern uint HttpInitialize(HTTPAPI_VERSION version, uint flags, IntPtr pReserved);

        [DllImport("httpapi.dll", SetLastError = true)]
        public static extern uint HttpTerminate(uint flags, IntPtr pReserved);

        [DllImport("httpapi.dll", SetLastError = true)]
        public static extern uint HttpQueryServiceConfiguration(
            IntPtr serviceHandle,
            int configId,
            IntPtr pInputConfigInfo,
            int inputConfigInfoLength,
            IntPtr pOutputConfigInfo,
            int outputConfigInfoLength,
            out int pReturnLength,
            IntPtr pOverlapped);

        [DllImport("httpapi.dll", SetLastError = true)]
        public static extern uint HttpSetServiceConfiguration(
            IntPtr serviceHandle,
            int configId,
            IntPtr pConfigInformation,
            int configInformationLength,
            IntPtr pOverlapped);

        [DllImport("httpapi.dll", SetLastError = true)]
        public static extern uint HttpDeleteServiceConfiguration(
            IntPtr serviceHandle,
            int configId,
            IntPtr pConfigInformation,
            int configInformationLength,
            IntPtr pOverlapped);
    }

    /// <summary>The HTTP Server API calls the util makes (an interface so that tests can run the util against a fake).</summary>
    internal interface IHttpApi
    {
        uint Initialize(HTTPAPI_VERSION version, uint flags);
        uint Terminate(uint flags);
        uint Query(int configId, IntPtr input, int inputLength, IntPtr output, int outputLength, out int returnLength);
        uint Set(int configId, IntPtr configInformation, int length);
        uint Delete(int configId, IntPtr configInformation, int length);
    }

    internal sealed class NativeHttpApi : IHttpApi
    {
        public uint Initialize(HTTPAPI_VERSION version, uint flags)
        {
            return NativeMethods.HttpInitialize(version, flags, IntPtr.Zero);
        }

        public uint Terminate(uint flags)
        {
            return NativeMethods.HttpTerminate(flags, IntPtr.Zero);
        }

        public uint Query(int configId, IntPtr input, int inputLength, IntPtr output, int outputLength, out int returnLength)
        {
            return NativeMethods.HttpQueryServiceConfiguration(IntPtr.Zero, configId, input, inputLength, output, outputLength,
                out returnLength, IntPtr.Zero);
        }

        public uint Set(int configId, IntPtr configInformation, int length)
        {
            return NativeMethods.HttpSetServiceConfiguration(IntPtr.Zero, configId, configInformation, length, IntPtr.Zero);
        }

        public uint Delete(int configId, IntPtr configInformation, int length)
        {
            return NativeMethods.HttpDeleteServiceConfiguration(IntPtr.Zero, configId, configInformation, length, IntPtr.Zero);
        }
    }

    /// <summary>Where the parts of one kind of record are (from the struct declarations, per pointer size).</summary>
    internal class RecordLayout
    {
        public int ConfigId;
        public string Kind;
        public int SetSize;
        public int ParamOffset;
        public int QuerySize;
        public int QueryTokenOffset;
        /// <summary>True when the set structure holds the SOCKADDR inline (SNI, CCS); false for a PSOCKADDR (IP:port).</summary>
        public bool InlineAddress;
        /// <summary>Offset of the PWSTR Host of an SNI key, else -1.</summary>
        public int HostOffset;

        public static RecordLayout For(int configId)
        {
            RecordLayout layout = new RecordLayout();
            layout.ConfigId = configId;
            layout.HostOffset = -1;
            if (configId == SslConfig.HttpServiceConfigSSLCertInfo)
            {
                layout.Kind = "ipport";
                layout.SetSize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_SET));
                layout.ParamOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_SET), "ParamDesc").ToInt32();
                layout.QuerySize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_QUERY));
                layout.QueryTokenOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_QUERY), "dwToken").ToInt32();
                layout.InlineAddress = false;
            }
            else if (configId == SslConfig.HttpServiceConfigSslSniCertInfo)
            {
                layout.Kind = "hostnameport";
                layout.SetSize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_SET));
                layout.ParamOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_SET), "ParamDesc").ToInt32();
                layout.QuerySize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_QUERY));
                layout.QueryTokenOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_QUERY), "dwToken").ToInt32();
                layout.InlineAddress = true;
                layout.HostOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_SNI_KEY), "Host").ToInt32();
            }
            else
            {
                layout.Kind = "ccs";
                layout.SetSize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_CCS_SET));
                layout.ParamOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_CCS_SET), "ParamDesc").ToInt32();
                layout.QuerySize = Marshal.SizeOf(typeof(HTTP_SERVICE_CONFIG_SSL_CCS_QUERY));
                layout.QueryTokenOffset = Marshal.OffsetOf(typeof(HTTP_SERVICE_CONFIG_SSL_CCS_QUERY), "dwToken").ToInt32();
                layout.InlineAddress = true;
            }
            return layout;
        }
    }

    public static class SslConfig
    {
        private const uint HTTP_INITIALIZE_CONFIG = 0x00000002;
        internal const int HttpServiceConfigSSLCertInfo = 1;
        internal const int HttpServiceConfigSslSniCertInfo = 5;
        internal const int HttpServiceConfigSslCcsCertInfo = 6;
        private const int HttpServiceConfigQueryNext = 1;
        private const uint NO_ERROR = 0;
        private const uint ERROR_FILE_NOT_FOUND = 2;
        private const uint ERROR_INVALID_PARAMETER = 87;
        private const uint ERROR_INSUFFICIENT_BUFFER = 122;
        private const uint ERROR_NO_MORE_ITEMS = 259;
        private const int SockAddrStorageSize = 128;

        /// <summary>The HTTP Server API; tests replace it with a fake.</summary>
        internal static IHttpApi Api = new NativeHttpApi();

        /// <summary>Every http.sys SSL record: IP:port, then hostname:port, then central certificate store.</summary>
        public static List<SslCertBinding> GetBindings()
        {
            List<SslCertBinding> result = new List<SslCertBinding>();
            Initialize();
            try
            {
                Enumerate(RecordLayout.For(HttpServiceConfigSSLCertInfo), result);
                Enumerate(RecordLayout.For(HttpServiceConfigSslSniCertInfo), result);
                Enumerate(RecordLayout.For(HttpServiceConfigSslCcsCertInfo), result);
            }
            finally
            {
                Api.Terminate(HTTP_INITIALIZE_CONFIG);
            }
            return result;
        }

        /// <summary>
        /// Gives one record (as read by GetBindings) a new certificate: deletes it and sets it again with
        /// every other field unchanged. When setting the new record fails, the old record is set again.
        /// </summary>
        /// <param name="binding">The record as GetBindings returned it.</param>
        /// <param name="thumbprint">Hex SHA-1 hash of the new certificate.</param>
        /// <param name="storeName">Store of the new certificate (null or empty means MY).</param>
        public static void SetCertificate(SslCertBinding binding, string thumbprint, string storeName)
        {
            if (binding == null)
                throw new ArgumentNullException("binding");
            if (binding.SockAddr == null)
                throw new ArgumentException("the record was not read by GetBindings", "binding");
            byte[] newHash = ParseHex(thumbprint);
            byte[] oldHash = binding.Thumbprint == null ? null : ParseHex(binding.Thumbprint);
            RecordLayout layout = RecordLayout.For(ConfigIdOf(binding.Kind));

            Initialize();
            try
            {
                using (NativeRecord oldRecord = new NativeRecord(layout, binding, oldHash, binding.StoreName))
                using (NativeRecord newRecord = new NativeRecord(layout, binding, newHash, storeName))
                {
                    uint rc = Api.Delete(layout.ConfigId, oldRecord.Pointer, layout.SetSize);
                    if (rc != NO_ERROR)
                        throw new Win32Exception((int)rc, String.Format(CultureInfo.InvariantCulture,
                            "HttpDeleteServiceConfiguration({0}={1}) failed; the record is unchanged", binding.Kind, binding.Key));
                    rc = Api.Set(layout.ConfigId, newRecord.Pointer, layout.SetSize);
                    if (rc != NO_ERROR)
                    {
                        uint restore = Api.Set(layout.ConfigId, oldRecord.Pointer, layout.SetSize);
                        string outcome = restore == NO_ERROR
                            ? "the old record was set again"
                            : String.Format(CultureInfo.InvariantCulture,
                                "setting the old record again failed too ({0}): the record is MISSING, recreate it with certificate {1}",
                                new Win32Exception((int)restore).Message, binding.Thumbprint);
                        throw new Win32Exception((int)rc, String.Format(CultureInfo.InvariantCulture,
                            "HttpSetServiceConfiguration({0}={1}) failed: {2}; {3}", binding.Kind, binding.Key,
                            new Win32Exception((int)rc).Message, outcome));
                    }
                }
            }
            finally
            {
                Api.Terminate(HTTP_INITIALIZE_CONFIG);
            }
        }

        private static void Initialize()
        {
            uint rc = Api.Initialize(new HTTPAPI_VERSION(1, 0), HTTP_INITIALIZE_CONFIG);
            if (rc != NO_ERROR)
                throw new Win32Exception((int)rc, "HttpInitialize failed");
        }

        private static int ConfigIdOf(string kind)
        {
            if (kind == "ipport")
                return HttpServiceConfigSSLCertInfo;
            if (kind == "hostnameport")
                return HttpServiceConfigSslSniCertInfo;
            if (kind == "ccs")
                return HttpServiceConfigSslCcsCertInfo;
            throw new ArgumentException("unknown http.sys record kind '" + kind + "'", "kind");
        }

        private static byte[] ParseHex(string hex)
        {
            if (String.IsNullOrEmpty(hex) || hex.Length % 2 != 0)
                throw new ArgumentException("a certificate hash must be an even number of hex digits", "hex");
            byte[] bytes = new byte[hex.Length / 2];
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = Byte.Parse(hex.Substring(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return bytes;
        }

        private static void Enumerate(RecordLayout layout, List<SslCertBinding> result)
        {
            int inputSize = layout.QuerySize;
            IntPtr input = Marshal.AllocHGlobal(inputSize);
            try
            {
                for (int token = 0; ; token++)
                {
                    Marshal.Copy(new byte[inputSize], 0, input, inputSize);
                    Marshal.WriteInt32(input, 0, HttpServiceConfigQueryNext);
                    Marshal.WriteInt32(input, layout.QueryTokenOffset, token);

                    int needed;
                    uint rc = Api.Query(layout.ConfigId, input, inputSize, IntPtr.Zero, 0, out needed);
                    if (rc == ERROR_NO_MORE_ITEMS || rc == ERROR_FILE_NOT_FOUND)
                        return;
                    if (rc == ERROR_INVALID_PARAMETER && layout.ConfigId != HttpServiceConfigSSLCertInfo && token == 0)
                        return;  // no SNI / CCS support before Windows Server 2012
                    if (rc != ERROR_INSUFFICIENT_BUFFER)
                        throw new Win32Exception((int)rc, String.Format(CultureInfo.InvariantCulture,
                            "HttpQueryServiceConfiguration({0}) failed", layout.ConfigId));

                    IntPtr output = Marshal.AllocHGlobal(needed);
                    try
                    {
                        rc = Api.Query(layout.ConfigId, input, inputSize, output, needed, out needed);
                        if (rc != NO_ERROR)
                            throw new Win32Exception((int)rc, String.Format(CultureInfo.InvariantCulture,
                                "HttpQueryServiceConfiguration({0}) failed", layout.ConfigId));
                        result.Add(Parse(layout, output));
                    }
                    finally
                    {
                        Marshal.FreeHGlobal(output);
                    }
                }
            }
            finally
            {
                Marshal.FreeHGlobal(input);
            }
        }

        internal static IntPtr Offset(IntPtr pointer, int offset)
        {
            return new IntPtr(pointer.ToInt64() + offset);
        }

        private static SslCertBinding Parse(RecordLayout layout, IntPtr output)
        {
            SslCertBinding binding = new SslCertBinding();
            binding.Kind = layout.Kind;
            IntPtr sockAddr = layout.InlineAddress ? output : Marshal.ReadIntPtr(output, 0);
            if (layout.HostOffset >= 0)
            {
                IntPtr host = Marshal.ReadIntPtr(output, layout.HostOffset);
                binding.HostName = host == IntPtr.Zero ? "" : Marshal.PtrToStringUni(host);
            }

            string address;
            int port;
            ReadSockAddr(sockAddr, out address, out port);
            binding.SockAddr = CopySockAddr(sockAddr);
            binding.Port = port;
            if (layout.ConfigId == HttpServiceConfigSSLCertInfo)
            {
                binding.IPAddress = address;
                binding.Key = (address.IndexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port.ToString(CultureInfo.InvariantCulture);
            }
            else if (layout.ConfigId == HttpServiceConfigSslSniCertInfo)
            {
                binding.Key = binding.HostName + ":" + port.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                binding.IPAddress = address;
                binding.Key = port.ToString(CultureInfo.InvariantCulture);
            }

            HTTP_SERVICE_CONFIG_SSL_PARAM param = (HTTP_SERVICE_CONFIG_SSL_PARAM)Marshal.PtrToStructure(
                Offset(output, layout.ParamOffset), typeof(HTTP_SERVICE_CONFIG_SSL_PARAM));
            if (param.SslHashLength > 0 && param.pSslHash != IntPtr.Zero)
            {
                byte[] hash = new byte[param.SslHashLength];
                Marshal.Copy(param.pSslHash, hash, 0, hash.Length);
                StringBuilder hex = new StringBuilder(hash.Length * 2);
                foreach (byte b in hash)
                    hex.Append(b.ToString("X2", CultureInfo.InvariantCulture));
                binding.Thumbprint = hex.ToString();
            }
            binding.AppId = param.AppId;
            binding.StoreName = ReadString(param.pSslCertStoreName);
            binding.CertCheckMode = param.DefaultCertCheckMode;
            binding.RevocationFreshnessTime = param.DefaultRevocationFreshnessTime;
            binding.RevocationUrlRetrievalTimeout = param.DefaultRevocationUrlRetrievalTimeout;
            binding.CtlIdentifier = ReadString(param.pDefaultSslCtlIdentifier);
            binding.CtlStoreName = ReadString(param.pDefaultSslCtlStoreName);
            binding.Flags = param.DefaultFlags;
            return binding;
        }

        private static string ReadString(IntPtr pointer)
        {
            if (pointer == IntPtr.Zero)
                return null;
            return Marshal.PtrToStringUni(pointer);
        }

        // The SOCKADDR of the key: SOCKADDR_IN (16 bytes) or SOCKADDR_IN6 (28 bytes), kept in a
        // SOCKADDR_STORAGE-sized buffer so that the record can be written back byte for byte.
        private static byte[] CopySockAddr(IntPtr sockAddr)
        {
            byte[] bytes = new byte[SockAddrStorageSize];
            if (sockAddr == IntPtr.Zero)
                return bytes;
            short family = Marshal.ReadInt16(sockAddr, 0);
            int length = family == 23 ? 28 : 16;
            Marshal.Copy(sockAddr, bytes, 0, length);
            return bytes;
        }

        // SOCKADDR_IN { short family (2); ushort port (network order); 4 address bytes }
        // SOCKADDR_IN6 { short family (23); ushort port; uint flowinfo; 16 address bytes; uint scope id }
        private static void ReadSockAddr(IntPtr sockAddr, out string address, out int port)
        {
            address = "";
            port = 0;
            if (sockAddr == IntPtr.Zero)
                return;
            short family = Marshal.ReadInt16(sockAddr, 0);
            port = (Marshal.ReadByte(sockAddr, 2) << 8) | Marshal.ReadByte(sockAddr, 3);
            if (family == 2)
            {
                byte[] bytes = new byte[4];
                Marshal.Copy(Offset(sockAddr, 4), bytes, 0, 4);
                address = new IPAddress(bytes).ToString();
            }
            else if (family == 23)
            {
                byte[] bytes = new byte[16];
                Marshal.Copy(Offset(sockAddr, 8), bytes, 0, 16);
                uint scope = (uint)Marshal.ReadInt32(sockAddr, 24);
                address = new IPAddress(bytes, scope).ToString();
            }
        }
    }

    /// <summary>
    /// An HTTP_SERVICE_CONFIG_SSL_*_SET in unmanaged memory, built from a record read by GetBindings with
    /// the given hash and store name; every other field is copied. Frees everything on Dispose.
    /// </summary>
    internal sealed class NativeRecord : IDisposable
    {
        private readonly List<IntPtr> allocations = new List<IntPtr>();
        public IntPtr Pointer;

        public NativeRecord(RecordLayout layout, SslCertBinding binding, byte[] hash, string storeName)
        {
            Pointer = Alloc(layout.SetSize);
            Marshal.Copy(new byte[layout.SetSize], 0, Pointer, layout.SetSize);
            if (layout.InlineAddress)
            {
                Marshal.Copy(binding.SockAddr, 0, Pointer, binding.SockAddr.Length);
            }
            else
            {
                IntPtr sockAddr = Alloc(binding.SockAddr.Length);
                Marshal.Copy(binding.SockAddr, 0, sockAddr, binding.SockAddr.Length);
                Marshal.WriteIntPtr(Pointer, 0, sockAddr);
            }
            if (layout.HostOffset >= 0)
                Marshal.WriteIntPtr(Pointer, layout.HostOffset, Wide(binding.HostName));

            HTTP_SERVICE_CONFIG_SSL_PARAM param = new HTTP_SERVICE_CONFIG_SSL_PARAM();
            if (hash != null)
            {
                param.SslHashLength = hash.Length;
                param.pSslHash = Alloc(hash.Length);
                Marshal.Copy(hash, 0, param.pSslHash, hash.Length);
            }
            param.AppId = binding.AppId;
            param.pSslCertStoreName = String.IsNullOrEmpty(storeName) ? IntPtr.Zero : Wide(storeName);
            param.DefaultCertCheckMode = binding.CertCheckMode;
            param.DefaultRevocationFreshnessTime = binding.RevocationFreshnessTime;
            param.DefaultRevocationUrlRetrievalTimeout = binding.RevocationUrlRetrievalTimeout;
            param.pDefaultSslCtlIdentifier = binding.CtlIdentifier == null ? IntPtr.Zero : Wide(binding.CtlIdentifier);
            param.pDefaultSslCtlStoreName = binding.CtlStoreName == null ? IntPtr.Zero : Wide(binding.CtlStoreName);
            param.DefaultFlags = binding.Flags;
            Marshal.StructureToPtr(param, SslConfig.Offset(Pointer, layout.ParamOffset), false);
        }

        private IntPtr Alloc(int size)
        {
            IntPtr pointer = Marshal.AllocHGlobal(size);
            allocations.Add(pointer);
            return pointer;
        }

        private IntPtr Wide(string value)
        {
            IntPtr pointer = Marshal.StringToHGlobalUni(value);
            allocations.Add(pointer);
            return pointer;
        }

        public void Dispose()
        {
            foreach (IntPtr pointer in allocations)
                Marshal.FreeHGlobal(pointer);
            allocations.Clear();
            Pointer = IntPtr.Zero;
        }
    }
}
