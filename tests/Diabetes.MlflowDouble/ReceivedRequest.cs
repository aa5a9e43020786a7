namespace Diabetes.MlflowDouble;

/// <summary>A request the double answered: what was asked, the status, how the body was framed on the wire, and when.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, int Status, long? ContentLength, bool Chunked, DateTimeOffset At)
{
    /// <summary>"METHOD path status".</summary>
    public override string ToString() => $"{Method} {PathAndQuery} {Status}";
}
