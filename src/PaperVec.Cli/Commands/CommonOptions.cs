using System.CommandLine;
using PaperVec.Embedding;

namespace PaperVec.Cli.Commands;

/// <summary>Options shared by the verbs that embed text.</summary>
static class CommonOptions
{
    public static Option<EmbeddingDevice> Device() => new("--device")
    {
        Description = "Where the model runs: cpu, cuda, or auto (cuda, else cpu with a warning)",
        DefaultValueFactory = _ => EmbeddingDevice.Cpu,
    };

    public static Option<int> Batch() => new("--batch") { Description = "Texts per forward pass", DefaultValueFactory = _ => new EmbedderOptions().BatchSize };

    public static Option<int> Threads() => new("--threads") { Description = "ONNX Runtime threads (0: one per core)", DefaultValueFactory = _ => 0 };

    public static Embedder LoadEmbedder(ParseResult parse, Option<EmbeddingDevice> device, Option<int> batch, Option<int> threads)
    {
        int batchSize = parse.GetValue(batch), threadCount = parse.GetValue(threads);
        if (batchSize < 1) throw new UsageException("--batch must be at least 1");
        if (threadCount < 0) throw new UsageException("--threads must be 0 or more");
        var embedder = Embedder.Load(new EmbedderOptions { Device = parse.GetValue(device), BatchSize = batchSize, Threads = threadCount });
        if (embedder.DeviceNote != null) Console.Error.WriteLine($"papervec: warning: {embedder.DeviceNote}");
        return embedder;
    }
}
