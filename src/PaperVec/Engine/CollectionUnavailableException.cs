namespace PaperVec.Engine;

/// <summary>The collection cannot answer completely now (every replica of a shard refused or missed a call): HTTP 503.</summary>
public class CollectionUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
