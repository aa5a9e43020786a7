namespace Diabetes.Testing;

/// <summary>How the tests call the services they start.</summary>
public static class ServiceCalls
{
    /// <summary>
    /// How long one call may take before the test gives up (HttpClient's default is 100 s): some calls do a whole
    /// step in one request, such as preparing the dataset's 101,766 rows, which takes minutes on a machine whose cores
    /// are busy with other work. Only a safety net against a call that would never end.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);
}
