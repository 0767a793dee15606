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

    public static ModelFiles Locate(string? directory = null)
    {
        directory ??= Environment.GetEnvironmentVariable("PAPERVEC_MODEL_DIR");
        directory ??= DefaultBuildDirectory();
        var files = new ModelFiles(directory);
        if (!File.Exists(files.ModelPath) || !File.Exists(files.TokenizerPath))
            throw new FileNotFoundException($"model not built: {files.ModelPath} is missing (run ./papervec model build)");
        return files;
    }

    /// <summary>native-models/out/all-MiniLM-L6-v2 of the repository this program runs from (or the current folder's).</summary>
    public static string DefaultBuildDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (System.IO.Directory.Exists(Path.Combine(dir.FullName, "native-models")) && File.Exists(Path.Combine(dir.FullName, "PaperVec.sln")))
                    return Path.Combine(dir.FullName, "native-models", "out", DefaultModelName);
        return Path.Combine(Environment.CurrentDirectory, "native-models", "out", DefaultModelName);
    }
}
