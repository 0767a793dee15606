using System.Runtime.InteropServices;
using PaperVec.Embedding;
using PaperVec.Tests.Embedding;

namespace PaperVec.Tests.Cli;

[Collection("embedder")]
public class EmbedCommandTests(EmbedderFixture fixture)
{
    [Fact]
    public void WritesOneLittleEndianRowPerLineInInputOrder()
    {
        string dir = Directory.CreateTempSubdirectory("pv-embed").FullName;
        try
        {
            var lines = new[] { "graph neural networks for molecules", "", "Grad-CAM: visual explanations", "naïve Bayes ☃ 中文" };
            string input = Path.Combine(dir, "in.txt"), output = Path.Combine(dir, "out.f32");
            File.WriteAllText(input, string.Join("\r\n", lines) + "\n");
            var (exit, _, err) = CliRunner.Run("embed", "--in", input, "--out", output, "--batch", "2");
            Assert.True(exit == 0, err);
            var bytes = File.ReadAllBytes(output);
            Assert.Equal(lines.Length * 384 * 4, bytes.Length);
            var rows = MemoryMarshal.Cast<byte, float>(bytes);
            var expected = fixture.Embedder.Embed(lines);
            for (int i = 0; i < lines.Length; i++)
                for (int d = 0; d < 384; d++)
                    Assert.Equal(expected[i][d], rows[i * 384 + d], 1e-5f);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingInputIsAOneLineErrorWithExitCode1()
    {
        var (exit, _, err) = CliRunner.Run("embed", "--in", "/nonexistent/texts.txt", "--out", "/tmp/x.f32");
        Assert.Equal(1, exit);
        Assert.Equal("papervec: no such file: /nonexistent/texts.txt", err.Trim());
    }

    [Fact]
    public void InvalidUtf8IsRejected()
    {
        string input = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(input, [0x61, 0xFF, 0xFE, 0x0A]);
            var (exit, _, err) = CliRunner.Run("embed", "--in", input, "--out", input + ".f32");
            Assert.Equal(1, exit);
            Assert.Contains("not valid UTF-8", err);
            Assert.False(File.Exists(input + ".f32"));
        }
        finally { File.Delete(input); }
    }

    [Fact]
    public void BadUsageExitsWith2()
    {
        Assert.Equal(2, CliRunner.Run("embed", "--in").Exit);
        Assert.Equal(2, CliRunner.Run("no-such-verb").Exit);
        Assert.Equal(2, CliRunner.Run("embed", "--in", "a", "--out", "b", "--batch", "-1").Exit);
        Assert.Equal(2, CliRunner.Run("embed", "--in", "a", "--out", "b", "--precision", "int4").Exit);
    }

    [Fact]
    public void CudaRequestOnAMachineWithoutGpuFailsWithOneLine()
    {
        if (File.Exists("/dev/nvidia0")) return; // covered by the GPU benchmark run on a GPU machine
        string input = Path.GetTempFileName();
        try
        {
            File.WriteAllText(input, "hello\n");
            var (exit, _, err) = CliRunner.Run("embed", "--in", input, "--out", input + ".f32", "--device", "cuda");
            Assert.Equal(1, exit);
            Assert.Single(err.Trim().Split('\n'));
            Assert.Contains("CUDA", err);
            if (!Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
                Assert.Contains("PAPERVEC_GPU=1", err); // the default (CPU package) build says how to get the provider
        }
        finally { File.Delete(input); }
    }
}
