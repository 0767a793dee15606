namespace PaperVec.Tests;

/// <summary>Locations of the repository's fixtures, models and the shared data beside it.</summary>
static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");
    public static string ModelDir => Path.Combine(Root, "native-models", "out", "all-MiniLM-L6-v2");
    public static string WeightsPackageDir => Path.Combine(Root, "native-models", ".cache", "minilm-0.1.0", "model");
    public static string Digests => Path.Combine(Root, "data", "digests");
    public static string Shared => Path.Combine(Root, "..", "shared");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PaperVec.sln"))) return dir.FullName;
        throw new InvalidOperationException("PaperVec.sln not found above " + AppContext.BaseDirectory);
    }
}
