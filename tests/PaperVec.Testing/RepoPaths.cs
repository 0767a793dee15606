namespace PaperVec.Tests;

/// <summary>Locations of the repository's fixtures, models and the shared data beside it.</summary>
static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");
    public static string ModelDir => Path.Combine(Root, "native-models", "out", "all-MiniLM-L6-v2");
    public static string WeightsPackageDir => Path.Combine(Root, "native-models", ".cache", "minilm-0.1.0", "model");
    public static string Digests => Path.Combine(Root, "data", "digests");
    /// <summary>The shared data beside the repository (../shared), or PAPERVEC_SHARED where it lives elsewhere. A fresh clone has none.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("PAPERVEC_SHARED") is { Length: > 0 } elsewhere ? elsewhere : Path.Combine(Root, "..", "shared");

    /// <summary>The 40,717 real arXiv papers in ../shared (corpora/arxiv-cs-2025.jsonl).</summary>
    public static string SharedCorpus => Path.Combine(Shared, "corpora", "arxiv-cs-2025.jsonl");

    /// <summary>
    /// <paramref name="path"/>, a file or folder under <see cref="Shared"/>; when it is absent the calling
    /// [SkippableFact] is skipped with that reason instead of failing on a machine without ../shared.
    /// </summary>
    public static string RequireShared(string path)
    {
        Skip.IfNot(File.Exists(path) || Directory.Exists(path), $"needs ../shared beside the repository (or PAPERVEC_SHARED): {path} is absent");
        return path;
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PaperVec.sln"))) return dir.FullName;
        throw new InvalidOperationException("PaperVec.sln not found above " + AppContext.BaseDirectory);
    }
}
