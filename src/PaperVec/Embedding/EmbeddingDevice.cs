namespace PaperVec.Embedding;

/// <summary>Where the model runs. Auto tries CUDA and falls back to the CPU with a warning.</summary>
public enum EmbeddingDevice { Cpu, Cuda, Auto }

/// <summary>The embedder cannot start on the device that was asked for; the message is one line for the user.</summary>
public sealed class EmbeddingDeviceException(string message, Exception? inner = null) : Exception(message, inner);
