using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Diabetes.Testing.Models;

namespace Diabetes.InferenceApi.FunctionalTests;

/// <summary>
/// The two 503s of a monitoring call that reads the prediction log: the log off is a state that lasts (no
/// <c>Retry-After</c>, <c>state</c> logOff, so the monitoring DAG skips), its PostgreSQL down an outage (<c>Retry-After:
/// 10</c>, so callers try again).
/// </summary>
internal static class LogRefusals
{
    public static async Task AssertAsync(string path)
    {
        // Arrange: one service without a log, one whose log's address has no server (nothing listens on port 9); each
        // serves version 1, whose reference profile drift reads before the log
        await using var withoutLog = await InferenceApp.StartAsync();
        await using var logDown = await InferenceApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["ConnectionStrings:monitoring"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=monitoring;Timeout=2",
        });
        foreach (var app in new[] { withoutLog, logDown })
        {
            await app.WaitForVersionAsync((await TestModels.PublishAsync(app.MlflowClient, TestModels.Logistic)).Version);
        }

        // Act
        using var off = await withoutLog.CreateClient().GetAsync(path);
        using var down = await logDown.CreateClient().GetAsync(path);

        // Assert
        var offProblem = await ProblemAsync(off, "The prediction log is off");
        Assert.Equal("logOff", offProblem.GetProperty("state").GetString());
        Assert.False(off.Headers.Contains("Retry-After"), $"{path} with the log off answered Retry-After");
        var downProblem = await ProblemAsync(down, "The prediction log is unavailable");
        Assert.False(downProblem.TryGetProperty("state", out _));
        Assert.Equal(TimeSpan.FromSeconds(10), down.Headers.RetryAfter?.Delta);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, string title)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(title, problem.GetProperty("title").GetString());
        return problem;
    }
}
