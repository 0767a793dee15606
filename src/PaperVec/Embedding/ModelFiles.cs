namespace PaperVec.Embedding;

/// <summary>
/// Finds the built model folder (model.onnx, tokenizer.json, config.json): PAPERVEC_MODEL_DIR if set,
/// else native-models/out/all-MiniLM-L6-v2 in the first folder above the program that has one.
/// </summary>
public sealed record ModelFiles(string Directory)
{
    public const string DefaultModelName = "all-MiniLM-L6-v2";

    public string ModelPath => Path.Combine(Directory, "model.onnx");
    public string TokenizerPath => Path.Combine(Directory, "tokenizer.json");

    public static ModelFiles Locate(string? directory = null, EmbeddingPrecision precision = EmbeddingPrecision.Fp32)
    {
        directory ??= Environment.GetEnvironmentVariable("PAPERVEC_MODEL_DIR");
        directory ??= DefaultBuildDirectory(precision);
        var files = new ModelFiles(directory);
        if (!File.Exists(files.ModelPath) || !File.Exists(files.TokenizerPath))
            throw new FileNotFoundException($"model not built: {files.ModelPath} is missing (run ./papervec model build --precision {(precision == EmbeddingPrecision.Int8 ? "int8" : "fp32")})");
        return files;
    }

    /// <summary>native-models/out/all-MiniLM-L6-v2 (fp32) or all-MiniLM-L6-v2-int8 of the repository this program runs from.</summary>
    public static string DefaultBuildDirectory(EmbeddingPrecision precision = EmbeddingPrecision.Fp32) =>
        Path.Combine(RepositoryRoot(), "native-models", "out", precision == EmbeddingPrecision.Int8 ? DefaultModelName + "-int8" : DefaultModelName);

    /// <summary>
    /// The PaperVec checkout this program runs from (the first folder above it, or above the current
    /// folder, holding PaperVec.sln and native-models/), else the current folder.
    /// </summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (System.IO.Directory.Exists(Path.Combine(dir.FullName, "native-models")) && File.Exists(Path.Combine(dir.FullName, "PaperVec.sln")))
                    return dir.FullName;
        return Environment.CurrentDirectory;
    }
}
