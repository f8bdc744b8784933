// Copyright: (c) 2025, apexone.certificates maintainers
// GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

// Note: This module_util is PRIVATE to the apexone.certificates collection and for internal use only.
//       Do not depend on these classes from other collections; the API can change without notice.
//
// Read-only view of the http.sys SSL configuration (what `netsh http show sslcert` prints), through the
// HTTP Server API instead of parsing netsh output, whose labels are translated on non-English Windows.
// Lists the IP:port (HttpServiceConfigSSLCertInfo), hostname:port (HttpServiceConfigSslSniCertInfo,
// Windows 8 / Server 2012 and later) and central certificate store (HttpServiceConfigSslCcsCertInfo)
// records with every field of HTTP_SERVICE_CONFIG_SSL_PARAM. Nothing is changed.
// Use it from a module with:
//   #AnsibleRequires -CSharpUtil ..module_utils._ApexOneHttpSys
// and [ApexOne.HttpSys.SslConfig]::GetBindings().
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
    }

    public static class SslConfig
    {
        private const uint HTTP_INITIALIZE_CONFIG = 0x00000002;
        private const int HttpServiceConfigSSLCertInfo = 1;
        private const int HttpServiceConfigSslSniCertInfo = 5;
        private const int HttpServiceConfigSslCcsCertInfo = 6;
        private const int HttpServiceConfigQueryNext = 1;
        private const uint NO_ERROR = 0;
        private const uint ERROR_FILE_NOT_FOUND = 2;
        private const uint ERROR_INVALID_PARAMETER = 87;
        private const uint ERROR_INSUFFICIENT_BUFFER = 122;
        private const uint ERROR_NO_MORE_ITEMS = 259;
        // sizeof(SOCKADDR_STORAGE); it is 8-byte aligned on x86 and x64 alike.
        private const int SockAddrStorageSize = 128;

        /// <summary>Every http.sys SSL record: IP:port, then hostname:port, then central certificate store.</summary>
        public static List<SslCertBinding> GetBindings()
        {
            List<SslCertBinding> result = new List<SslCertBinding>();
            uint rc = NativeMethods.HttpInitialize(new HTTPAPI_VERSION(1, 0), HTTP_INITIALIZE_CONFIG, IntPtr.Zero);
            if (rc != NO_ERROR)
                throw new Win32Exception((int)rc, "HttpInitialize failed");
            try
            {
                Enumerate(HttpServiceConfigSSLCertInfo, result);
                Enumerate(HttpServiceConfigSslSniCertInfo, result);
                Enumerate(HttpServiceConfigSslCcsCertInfo, result);
            }
            finally
            {
                NativeMethods.HttpTerminate(HTTP_INITIALIZE_CONFIG, IntPtr.Zero);
            }
            return result;
        }

        private static int Align(int value, int alignment)
        {
            return (value + alignment - 1) / alignment * alignment;
        }

        // Size of the HTTP_SERVICE_CONFIG_*_QUERY structure and offset of its dwToken member.
        // QueryDesc (an enum, 4 bytes) comes first; KeyDesc is a pointer (SSL) or starts with a
        // SOCKADDR_STORAGE (SNI, CCS), which is 8-byte aligned.
        private static void QueryLayout(int configId, out int size, out int tokenOffset)
        {
            if (configId == HttpServiceConfigSSLCertInfo)
            {
                tokenOffset = IntPtr.Size * 2;
                size = Align(tokenOffset + 4, IntPtr.Size);
            }
            else if (configId == HttpServiceConfigSslSniCertInfo)
            {
                tokenOffset = 8 + SockAddrStorageSize + IntPtr.Size;
                size = Align(tokenOffset + 4, 8);
            }
            else
            {
                tokenOffset = 8 + SockAddrStorageSize;
                size = Align(tokenOffset + 4, 8);
            }
        }

        private static void Enumerate(int configId, List<SslCertBinding> result)
        {
            int inputSize;
            int tokenOffset;
            QueryLayout(configId, out inputSize, out tokenOffset);
            IntPtr input = Marshal.AllocHGlobal(inputSize);
            try
            {
                for (int token = 0; ; token++)
                {
                    Marshal.Copy(new byte[inputSize], 0, input, inputSize);
                    Marshal.WriteInt32(input, 0, HttpServiceConfigQueryNext);
                    Marshal.WriteInt32(input, tokenOffset, token);

                    int needed;
                    uint rc = NativeMethods.HttpQueryServiceConfiguration(IntPtr.Zero, configId, input, inputSize,
                        IntPtr.Zero, 0, out needed, IntPtr.Zero);
                    if (rc == ERROR_NO_MORE_ITEMS || rc == ERROR_FILE_NOT_FOUND)
                        return;
                    if (rc == ERROR_INVALID_PARAMETER && configId != HttpServiceConfigSSLCertInfo && token == 0)
                        return;  // no SNI / CCS support before Windows Server 2012
                    if (rc != ERROR_INSUFFICIENT_BUFFER)
                        throw new Win32Exception((int)rc, String.Format("HttpQueryServiceConfiguration({0}) failed", configId));

                    IntPtr output = Marshal.AllocHGlobal(needed);
                    try
                    {
                        rc = NativeMethods.HttpQueryServiceConfiguration(IntPtr.Zero, configId, input, inputSize,
                            output, needed, out needed, IntPtr.Zero);
                        if (rc != NO_ERROR)
                            throw new Win32Exception((int)rc, String.Format("HttpQueryServiceConfiguration({0}) failed", configId));
                        result.Add(Parse(configId, output));
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

        private static IntPtr Offset(IntPtr pointer, int offset)
        {
            return new IntPtr(pointer.ToInt64() + offset);
        }

        private static SslCertBinding Parse(int configId, IntPtr output)
        {
            SslCertBinding binding = new SslCertBinding();
            int paramOffset;
            IntPtr sockAddr;
            if (configId == HttpServiceConfigSSLCertInfo)
            {
                // HTTP_SERVICE_CONFIG_SSL_SET { PSOCKADDR pIpPort; HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc; }
                binding.Kind = "ipport";
                sockAddr = Marshal.ReadIntPtr(output, 0);
                paramOffset = IntPtr.Size;
            }
            else if (configId == HttpServiceConfigSslSniCertInfo)
            {
                // HTTP_SERVICE_CONFIG_SSL_SNI_SET { SOCKADDR_STORAGE IpPort; PWSTR Host; ...PARAM }
                binding.Kind = "hostnameport";
                sockAddr = output;
                IntPtr host = Marshal.ReadIntPtr(output, SockAddrStorageSize);
                binding.HostName = host == IntPtr.Zero ? "" : Marshal.PtrToStringUni(host);
                paramOffset = SockAddrStorageSize + IntPtr.Size;
            }
            else
            {
                // HTTP_SERVICE_CONFIG_SSL_CCS_SET { SOCKADDR_STORAGE LocalAddress; ...PARAM }
                binding.Kind = "ccs";
                sockAddr = output;
                paramOffset = SockAddrStorageSize;
            }

            string address;
            int port;
            ReadSockAddr(sockAddr, out address, out port);
            binding.Port = port;
            if (configId == HttpServiceConfigSSLCertInfo)
            {
                binding.IPAddress = address;
                binding.Key = (address.IndexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port.ToString(CultureInfo.InvariantCulture);
            }
            else if (configId == HttpServiceConfigSslSniCertInfo)
            {
                binding.Key = binding.HostName + ":" + port.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                binding.IPAddress = address;
                binding.Key = port.ToString(CultureInfo.InvariantCulture);
            }

            HTTP_SERVICE_CONFIG_SSL_PARAM param = (HTTP_SERVICE_CONFIG_SSL_PARAM)Marshal.PtrToStructure(
                Offset(output, paramOffset), typeof(HTTP_SERVICE_CONFIG_SSL_PARAM));
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
}
