namespace PaperVec.Engine;

/// <summary>The model is not loaded (yet), and the request needs it (HTTP 503).</summary>
public sealed class ModelNotReadyException(string message) : InvalidOperationException(message);
