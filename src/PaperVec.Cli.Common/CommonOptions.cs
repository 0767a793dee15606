using System.CommandLine;
using PaperVec.Embedding;

namespace PaperVec.Cli.Common;

/// <summary>Options shared by the verbs that embed text.</summary>
static class CommonOptions
{
    public static Option<EmbeddingDevice> Device() => new("--device")
    {
        Description = "Where the model runs: cpu, cuda, or auto (cuda, else cpu with a warning)",
        DefaultValueFactory = _ => EmbeddingDevice.Cpu,
    };

    public static Option<EmbeddingPrecision> Precision() => new("--precision")
    {
        Description = "Model weights: int8 (default, 1.9x faster) or fp32; each has its own model id, so their vectors are never mixed (a store switched to the other is re-embedded first)",
        DefaultValueFactory = _ => new EmbedderOptions().Precision,
    };

    public static Option<int> Batch() => AtLeast(new("--batch") { Description = "Texts per forward pass (0: the precision's default, 1 for int8 and 8 for fp32)", DefaultValueFactory = _ => 0 }, 0);

    public static Option<int> Threads() => AtLeast(new("--threads") { Description = "ONNX Runtime threads per forward pass (0: cores / workers)", DefaultValueFactory = _ => 0 }, 0);

    public static Option<int> Workers() => AtLeast(new("--workers") { Description = "Forward passes run at once (0: one per core)", DefaultValueFactory = _ => 0 }, 0);

    /// <summary>--membership: how silos and clients find each other (docs/cluster.md).</summary>
    public static Option<string> Membership() => new("--membership")
    {
        Description = "How the cluster's silos and clients find each other: development (silo 0 holds the table in memory: losing silo 0 stops the cluster; one machine, tests) or redis:HOST:PORT (a Redis or Garnet store: survives any silo; use it on real machines)",
        DefaultValueFactory = _ => "development",
    };

    public static PaperVec.Cluster.Hosting.ClusterMembership MembershipOf(ParseResult parse, Option<string> option)
    {
        try { return PaperVec.Cluster.Hosting.ClusterMembership.Parse(parse.GetValue(option)); }
        catch (FormatException e) { throw new UsageException(e.Message); }
    }

    /// <summary>--tls-cert: the cluster's shared certificate (mutual TLS on the silo and gateway ports; docs/cluster.md).</summary>
    public static Option<string> TlsCert() => new("--tls-cert")
    {
        Description = $"The cluster's certificate and key (PFX or PEM; password in ${PaperVec.Cluster.Hosting.ClusterCertificate.PasswordVariable}): every silo and client presents it and accepts only peers presenting it. Required for a silo listening beyond loopback",
    };

    public static PaperVec.Cluster.Hosting.ClusterCertificate? CertificateOf(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) is { Length: > 0 } path ? PaperVec.Cluster.Hosting.ClusterCertificate.Load(path) : null;

    /// <summary>Rejects values below <paramref name="minimum"/> at parse time, so they exit with 2 before any work starts.</summary>
    public static Option<int> AtLeast(Option<int> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            int value;
            try { value = result.GetValueOrDefault<int>(); }
            catch (InvalidOperationException) { return; } // not a number: CommandLineRules has said so
            if (value < minimum) result.AddError($"{option.Name} must be at least {minimum}");
        });
        return option;
    }

    public static Embedder LoadEmbedder(ParseResult parse, Option<EmbeddingDevice> device, Option<int> batch, Option<int> threads, Option<int> workers,
        EmbeddingPrecision precision, bool? spinning = null)
    {
        int batchSize = parse.GetValue(batch), threadCount = parse.GetValue(threads);
        int workerCount = parse.GetValue(workers);
        var embedder = Embedder.Load(new EmbedderOptions
        {
            Device = parse.GetValue(device), BatchSize = batchSize, Threads = threadCount, Workers = workerCount,
            Precision = precision, Spinning = spinning,
        });
        if (embedder.DeviceNote != null) Console.Error.WriteLine($"papervec: warning: {embedder.DeviceNote}");
        return embedder;
    }
}
