using System.Buffers;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace PaperVec.Embedding;

/// <summary>
/// Turns texts into 384-d unit vectors with all-MiniLM-L6-v2 on ONNX Runtime: tokenize, sort by
/// length, batch with dynamic padding (each batch padded only to its longest text), run the encoder,
/// mean-pool the token states over the attention mask, L2-normalize, and return the vectors in input
/// order. Safe for concurrent callers: the tokenizer is stateless and InferenceSession.Run is
/// thread-safe; every call uses its own pooled buffers.
/// </summary>
public sealed class Embedder : IDisposable
{
    static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    static readonly string[] OutputNames = ["last_hidden_state"];

    readonly InferenceSession _session;
    // Same model with intra-op threads on every core, for a call that makes one large batch:
    // parallel single-threaded batches would leave the other cores idle there. Made on first use,
    // since building a session costs more than a short query saves (measured: see README).
    readonly Lazy<InferenceSession>? _singleBatchSession;
    const int SingleBatchSessionMinTokens = 512;
    readonly EmbedderOptions _options;

    public BertTokenizer Tokenizer { get; }
    public int Dimension { get; }
    /// <summary>Names the model and its weights, so vectors from another model are never mixed with these.</summary>
    public string ModelId { get; }
    /// <summary>The loaded model's weight precision (from its metadata).</summary>
    public EmbeddingPrecision Precision { get; }
    public EmbeddingDevice ActualDevice { get; }
    /// <summary>Why the device differs from the one asked for (auto fell back to the CPU), else null.</summary>
    public string? DeviceNote { get; }
    public EmbedderOptions Options => _options;

    Embedder(InferenceSession session, Lazy<InferenceSession>? singleBatchSession, BertTokenizer tokenizer, EmbedderOptions options, EmbeddingDevice device, string? note)
    {
        _session = session;
        _singleBatchSession = singleBatchSession;
        Tokenizer = tokenizer;
        ActualDevice = device;
        DeviceNote = note;
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Dimension = int.Parse(metadata.GetValueOrDefault("papervec.hidden_size", "384"));
        string weights = metadata.GetValueOrDefault("papervec.weights_sha256", "unknown");
        // fp32 ids keep their earlier form, so existing stores are not re-embedded; other precisions say which.
        string precision = metadata.GetValueOrDefault("papervec.precision", "fp32");
        Precision = precision == "int8" ? EmbeddingPrecision.Int8 : EmbeddingPrecision.Fp32;
        ModelId = $"{metadata.GetValueOrDefault("papervec.model", "model")}/{weights[..Math.Min(12, weights.Length)]}/b{metadata.GetValueOrDefault("papervec.builder_version", "?")}"
            + (precision == "fp32" ? "" : "/" + precision);
        _options = options.BatchSize > 0 ? options : options with { BatchSize = EmbedderOptions.DefaultBatchSize(Precision) };
    }

    public static Embedder Load(EmbedderOptions? options = null)
    {
        options ??= new EmbedderOptions();
        if (options.BatchSize < 0) throw new ArgumentOutOfRangeException(nameof(options), "batch size must be at least 1 (0: the precision's default)");
        if (options.MaxTokens is < 2 or > 512) throw new ArgumentOutOfRangeException(nameof(options), "max tokens must be within 2..512");
        var files = ModelFiles.Locate(options.ModelDirectory, options.Precision);
        var tokenizer = BertTokenizer.Load(files.TokenizerPath, options.MaxTokens);

        var device = options.Device;
        string? note = null;
        SessionOptions sessionOptions;
        try
        {
            sessionOptions = CreateSessionOptions(options, device);
        }
        catch (EmbeddingDeviceException e) when (device == EmbeddingDevice.Auto)
        {
            note = $"CUDA unavailable, using the CPU ({e.Message})";
            device = EmbeddingDevice.Cpu;
            sessionOptions = CreateSessionOptions(options, device);
        }
        if (device == EmbeddingDevice.Auto) device = EmbeddingDevice.Cuda;
        try
        {
            Lazy<InferenceSession>? single = null;
            if (device == EmbeddingDevice.Cpu && options.EffectiveWorkers > 1 && options.EffectiveThreads < Environment.ProcessorCount && options.OptimizedModelPath == null)
            {
                single = new(() =>
                {
                    using var singleOptions = CreateSessionOptions(options with { Workers = 1, Threads = options.Threads > 0 ? options.Threads * options.EffectiveWorkers : 0 }, device);
                    // A server's lone queries come and go: idle intra-op threads that spin would take
                    // the cores from the requests in between.
                    if (options.AllCoresForSingleBatches) singleOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                    return new InferenceSession(files.ModelPath, singleOptions);
                });
                if (options.AllCoresForSingleBatches) _ = single.Value;
            }
            using (sessionOptions)
                return new Embedder(new InferenceSession(files.ModelPath, sessionOptions), single, tokenizer, options, device, note);
        }
        catch (OnnxRuntimeException e)
        {
            throw new EmbeddingDeviceException($"ONNX Runtime cannot load {files.ModelPath}: {FirstLine(e.Message)}", e);
        }
    }

    static SessionOptions CreateSessionOptions(EmbedderOptions options, EmbeddingDevice device)
    {
        SessionOptions sessionOptions;
        try
        {
            sessionOptions = new SessionOptions();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new EmbeddingDeviceException($"ONNX Runtime's native library could not be loaded ({FirstLine(e.InnerException?.Message ?? e.Message)}); rebuild to restore the Microsoft.ML.OnnxRuntime package", e);
        }
        sessionOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        sessionOptions.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
        sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        sessionOptions.IntraOpNumThreads = options.EffectiveThreads;
        if (options.Spinning is bool spinning) sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
        if (options.OptimizedModelPath != null) sessionOptions.OptimizedModelFilePath = options.OptimizedModelPath;
        if (device is EmbeddingDevice.Cuda or EmbeddingDevice.Auto)
        {
            // The CPU package (the default build) has no CUDA provider compiled in; only the
            // Microsoft.ML.OnnxRuntime.Gpu.Linux build (-p:PaperVecGpu=true) lists it.
            if (!OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
            {
                sessionOptions.Dispose();
                throw new EmbeddingDeviceException(CudaNotInBuildMessage);
            }
            // The provider library needs CUDA 13, cuBLAS and cuDNN 9: load it first so that a missing one
            // is named (dlopen's own words) rather than ONNX Runtime's generic "Failed to load shared library".
            if (FindCudaProvider() is { } provider && !NativeLibrary.TryLoad(provider, out _))
            {
                string why;
                try { NativeLibrary.Free(NativeLibrary.Load(provider)); why = "unknown reason"; }
                catch (DllNotFoundException e)
                {
                    var missing = System.Text.RegularExpressions.Regex.Match(e.Message, @"([\w.+-]+\.so[\w.]*): cannot open shared object file");
                    why = missing.Success ? $"{missing.Groups[1].Value} is missing" : FirstLine(e.Message);
                }
                sessionOptions.Dispose();
                throw new EmbeddingDeviceException($"CUDA execution provider could not load: {why} (needs CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH)");
            }
            var logLevel = OrtEnv.Instance().EnvLogLevel;
            try
            {
                // ONNX Runtime would also log the failure below to stderr in colour; the exception says it once.
                OrtEnv.Instance().EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                sessionOptions.AppendExecutionProvider_CUDA(0);
            }
            catch (OnnxRuntimeException e)
            {
                sessionOptions.Dispose();
                throw new EmbeddingDeviceException($"CUDA execution provider failed to load: {FirstLine(e.Message)} (needs an NVIDIA GPU with its driver, and CUDA 13 + cuDNN 9 libraries on LD_LIBRARY_PATH)", e);
            }
            finally { OrtEnv.Instance().EnvLogLevel = logLevel; }
        }
        return sessionOptions;
    }

    internal const string CudaNotInBuildMessage = "the CUDA execution provider is not in this build (it has ONNX Runtime's CPU package): rebuild with `PAPERVEC_GPU=1 ./papervec ...` or `dotnet build -p:PaperVecGpu=true`";

    // Where ONNX Runtime will look for the provider: next to libonnxruntime.so (runtimes/RID/native
    // in a build for any platform, the output folder in one for a RID).
    static string? FindCudaProvider()
    {
        const string name = "libonnxruntime_providers_cuda.so";
        string[] candidates = [Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", name), Path.Combine(AppContext.BaseDirectory, name)];
        return candidates.FirstOrDefault(File.Exists);
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>Embeds one text (a query, or a paper's <see cref="PaperText.ForEmbedding"/>).</summary>
    public float[] Embed(string text)
    {
        var vector = new float[Dimension];
        Embed([text], vector);
        return vector;
    }

    public float[][] Embed(IReadOnlyList<string> texts, Action<int>? progress = null)
    {
        var flat = new float[texts.Count * Dimension];
        Embed(texts, flat, progress);
        var result = new float[texts.Count][];
        for (int i = 0; i < result.Length; i++) result[i] = flat.AsSpan(i * Dimension, Dimension).ToArray();
        return result;
    }

    /// <summary>
    /// Writes texts.Count rows of <see cref="Dimension"/> floats into <paramref name="output"/>, in input
    /// order. <paramref name="progress"/> is told how many texts are done after each batch.
    /// <paramref name="fixedPadding"/> pads every batch to MaxTokens instead of its longest text: it
    /// exists only to measure what dynamic padding gains.
    /// </summary>
    public void Embed(IReadOnlyList<string> texts, Span<float> output, Action<int>? progress = null, bool fixedPadding = false)
    {
        int n = texts.Count, maxTokens = _options.MaxTokens;
        if (output.Length < n * Dimension) throw new ArgumentException($"output holds {output.Length} floats, {n * Dimension} needed", nameof(output));
        if (n == 0) return;

        // Tokenize everything first: the lengths decide the batches.
        int[] tokens = ArrayPool<int>.Shared.Rent(n * maxTokens);
        int[] lengths = ArrayPool<int>.Shared.Rent(n);
        int[] order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                lengths[i] = Tokenizer.Encode(texts[i], tokens.AsSpan(i * maxTokens, maxTokens), maxTokens);
                order[i] = i;
            }
            // Longest first: the first batch sizes the pooled buffers, later ones reuse them.
            var lengthsRef = lengths;
            Array.Sort(order, 0, n, Comparer<int>.Create((a, b) => lengthsRef[b] != lengthsRef[a] ? lengthsRef[b].CompareTo(lengthsRef[a]) : a.CompareTo(b)));

            int batches = (n + _options.BatchSize - 1) / _options.BatchSize;
            int done = 0;
            var progressLock = new Lock();
            unsafe
            {
                fixed (float* outputPointer = output)
                {
                    nint outputAddress = (nint)outputPointer;
                    int outputLength = output.Length;
                    // Batches go to workers longest first; each writes only its own texts' rows.
                    Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(_options.EffectiveWorkers, batches) }, b =>
                    {
                        int start = b * _options.BatchSize, count = Math.Min(_options.BatchSize, n - start);
                        var batch = order.AsSpan(start, count);
                        int sequence = fixedPadding ? maxTokens : lengths[batch[0]];
                        var session = batches == 1 && _singleBatchSession != null && (_options.AllCoresForSingleBatches || count * sequence >= SingleBatchSessionMinTokens) ? _singleBatchSession.Value : _session;
                        RunBatch(session, batch, tokens, lengths, maxTokens, sequence, new Span<float>((float*)outputAddress, outputLength));
                        int finished = Interlocked.Add(ref done, count);
                        if (progress != null) lock (progressLock) progress(finished);
                    });
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(tokens);
            ArrayPool<int>.Shared.Return(lengths);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    void RunBatch(InferenceSession session, ReadOnlySpan<int> batch, int[] tokens, int[] lengths, int stride, int sequence, Span<float> output)
    {
        int rows = batch.Length, cells = rows * sequence;
        long[] ids = ArrayPool<long>.Shared.Rent(cells);
        long[] mask = ArrayPool<long>.Shared.Rent(cells);
        long[] types = ArrayPool<long>.Shared.Rent(cells);
        try
        {
            Array.Clear(ids, 0, cells);
            Array.Clear(mask, 0, cells);
            Array.Clear(types, 0, cells);
            for (int r = 0; r < rows; r++)
            {
                int text = batch[r], length = lengths[text];
                var source = tokens.AsSpan(text * stride, length);
                var idRow = ids.AsSpan(r * sequence, sequence);
                for (int t = 0; t < length; t++) idRow[t] = source[t];
                mask.AsSpan(r * sequence, length).Fill(1);
            }

            long[] shape = [rows, sequence];
            var memory = OrtMemoryInfo.DefaultInstance;
            using var idsValue = OrtValue.CreateTensorValueFromMemory(memory, ids.AsMemory(0, cells), shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(memory, mask.AsMemory(0, cells), shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(memory, types.AsMemory(0, cells), shape);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, InputNames, [idsValue, maskValue, typesValue], OutputNames);
            var hidden = results[0].GetTensorDataAsSpan<float>();

            for (int r = 0; r < rows; r++)
                MeanPoolAndNormalize(hidden.Slice(r * sequence * Dimension, sequence * Dimension), lengths[batch[r]],
                    output.Slice(batch[r] * Dimension, Dimension));
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(types);
        }
    }

    /// <summary>Mean of the first <paramref name="tokens"/> token states (the unmasked ones: padding is on the right), scaled to unit length.</summary>
    public static void MeanPoolAndNormalize(ReadOnlySpan<float> tokenStates, int tokens, Span<float> destination)
    {
        int dim = destination.Length;
        destination.Clear();
        for (int t = 0; t < tokens; t++)
            TensorPrimitives.Add(destination, tokenStates.Slice(t * dim, dim), destination);
        float norm = TensorPrimitives.Norm(destination);
        // The mean's 1/tokens factor cancels in the normalization.
        if (norm > 0) TensorPrimitives.Divide(destination, norm, destination);
    }

    public void Dispose()
    {
        _session.Dispose();
        if (_singleBatchSession is { IsValueCreated: true } single) single.Value.Dispose();
    }
}
