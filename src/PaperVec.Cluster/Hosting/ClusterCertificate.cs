using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace PaperVec.Cluster.Hosting;

/// <summary>
/// The cluster's shared certificate: every silo and every client presents it in Orleans' TLS
/// handshake (silo to silo, client to gateway), and each side accepts only a peer presenting this
/// same certificate. Holding the file (certificate and private key) is the key to the cluster, as
/// PAPERVEC_API_KEY is to the HTTP API. A self-signed one is made by `papervec cluster cert`.
/// </summary>
public sealed class ClusterCertificate
{
    /// <summary>The password of an encrypted PFX or PEM key (unset: the file is not encrypted).</summary>
    public const string PasswordVariable = "PAPERVEC_CLUSTER_CERT_PASSWORD";

    const string ServerAuthOid = "1.3.6.1.5.5.7.3.1", ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    public X509Certificate2 Certificate { get; }
    public string Path { get; }

    ClusterCertificate(X509Certificate2 certificate, string path) => (Certificate, Path) = (certificate, path);

    /// <summary>
    /// Loads a PFX/PKCS#12 or PEM file (certificate and private key in one file), the password from
    /// <see cref="PasswordVariable"/>. Anything unusable (missing, unreadable, no private key,
    /// expired, not valid for TLS client and server) is one <see cref="InvalidDataException"/> line naming the file.
    /// </summary>
    /// <param name="password">The file's password; null: <see cref="PasswordVariable"/>.</param>
    public static ClusterCertificate Load(string path, string? password = null)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new InvalidDataException($"cluster certificate {full}: no such file");
        password ??= Environment.GetEnvironmentVariable(PasswordVariable);
        X509Certificate2 certificate;
        try
        {
            byte[] bytes = File.ReadAllBytes(full);
            if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
            {
                string pem = System.Text.Encoding.ASCII.GetString(bytes);
                using var fromPem = pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal)
                    ? X509Certificate2.CreateFromEncryptedPem(pem, pem, password ?? "")
                    : X509Certificate2.CreateFromPem(pem, pem);
                // A PEM key is ephemeral; TLS wants the key in a PKCS#12 container on some platforms, so round-trip it.
                certificate = X509CertificateLoader.LoadPkcs12(fromPem.Export(X509ContentType.Pkcs12), null);
            }
            else
                certificate = X509CertificateLoader.LoadPkcs12(bytes, password);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"cluster certificate {full}: not a readable PFX or PEM certificate with its private key{(string.IsNullOrEmpty(password) ? $" (if it is encrypted, set {PasswordVariable})" : "")}: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"cluster certificate {full}: {e.Message}");
        }
        if (!certificate.HasPrivateKey) throw new InvalidDataException($"cluster certificate {full}: holds no private key (both sides of a handshake must prove they hold it)");
        if (certificate.NotAfter < DateTime.Now) throw new InvalidDataException($"cluster certificate {full}: expired on {certificate.NotAfter:yyyy-MM-dd}; make a new one with `papervec cluster cert`");
        foreach (var usage in certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>())
        {
            var oids = usage.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet();
            if (!oids.Contains(ServerAuthOid) || !oids.Contains(ClientAuthOid))
                throw new InvalidDataException($"cluster certificate {full}: its extended key usage must allow both TLS server and client authentication");
        }
        return new ClusterCertificate(certificate, full);
    }

    /// <summary>
    /// Writes a new self-signed cluster certificate with its private key (ECDSA P-256) to
    /// <paramref name="path"/>: PFX for .pfx/.p12, PEM for .pem; encrypted with <paramref name="password"/>
    /// when given. The file is created owner-only (0600) and never overwrites one that exists.
    /// </summary>
    public static X509Certificate2 Create(string path, string? password, int days)
    {
        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".pfx" or ".p12" or ".pem")) throw new ArgumentException($"{path}: name it .pfx, .p12 or .pem (the format is chosen by the name)");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=papervec-cluster", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid), new Oid(ClientAuthOid)], false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(days));
        byte[] bytes;
        if (extension == ".pem")
        {
            string keyPem = string.IsNullOrEmpty(password)
                ? key.ExportPkcs8PrivateKeyPem()
                : key.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000));
            bytes = System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n" + keyPem + "\n");
        }
        else
            bytes = certificate.Export(X509ContentType.Pkcs12, string.IsNullOrEmpty(password) ? null : password);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(path, options))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        return certificate;
    }

    /// <summary>
    /// Mutual TLS on every Orleans connection: each side presents this certificate and requires the
    /// other to present it too; the usual chain and name checks do not apply (it is self-signed and
    /// silos are reached by address), the check is that the peer's certificate is exactly this one.
    /// </summary>
    internal void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        byte[] expected = Certificate.RawData;
        options.RemoteCertificateValidation = (remote, _, _) =>
        {
            if (remote != null && remote.RawData.AsSpan().SequenceEqual(expected)) return true;
            // Remembered: Orleans reports a failed handshake to a gateway only as "unable to connect".
            _refused.TrySetResult();
            return false;
        };
    }

    readonly TaskCompletionSource _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a TLS handshake of this process first meets a peer presenting another certificate than this one (and refuses it).</summary>
    public Task Refused => _refused.Task;

    /// <summary>Whether a TLS handshake of this process met a peer presenting another certificate than this one (and refused it).</summary>
    public bool RefusedAPeer => _refused.Task.IsCompleted;

    /// <summary>The certificate's SHA-256 thumbprint, to print and compare by eye.</summary>
    public string Thumbprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);
}
