extern alias inference;
extern alias ingest;
extern alias web;

using System.Net.Http.Json;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Diabetes.Web.BrowserTests;

/// <summary>
/// The parts the web page talks to, all real but MLflow: the ingest service on PostgreSQL and S3 with the dataset's
/// validation, test and first train batch loaded and cleaned; the MLflow double holding a Production model with its
/// plots, group table and model card, and a version without them; the inference API serving the first; the web site;
/// and Debian's Chromium driven by Playwright.
/// </summary>
public sealed class WebSystem : IAsyncLifetime
{
    private ServiceHost<ingest::Program> _ingest = null!;
    private ServiceHost<inference::Program> _inference = null!;
    private ServiceHost<web::Program> _web = null!;
    private IPlaywright _playwright = null!;

    public const string FirstReason = "version 1 is the first registered version";
    public const string SecondReason = "kept version 1: version 2 ranks no better on the validation set";

    public MlflowServerDouble Mlflow { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri WebAddress => _web.BaseAddress;

    public Uri InferenceAddress => _inference.BaseAddress;

    public async Task InitializeAsync()
    {
        Mlflow = await MlflowServerDouble.StartAsync();
        await using (var services = MlflowClients.Create(Mlflow.BaseAddress))
        {
            // Version 1 holds Production; version 2 was compared and kept out, as the trainer's promotion tags them.
            // Version 1 has a model card and a group table; version 2 has neither, as a version trained before them.
            var mlflow = services.GetRequiredService<MlflowClient>();
            var first = await TestModels.PublishAsync(mlflow, TestModels.Logistic, withPlots: true, withCard: true);
            await TagDecisionAsync(mlflow, first.Version, PromotionTags.Promoted, FirstReason);
            var second = await TestModels.PublishAsync(mlflow, TestModels.FastTree, promote: false);
            await TagDecisionAsync(mlflow, second.Version, PromotionTags.Rejected, SecondReason);
        }

        _ingest = new ServiceHost<ingest::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:rawdata"] = await TestServers.CreateDatabaseAsync("rawdata"),
            ["ConnectionStrings:cleandata"] = await TestServers.CreateDatabaseAsync("cleandata"),
            ["ConnectionStrings:minio"] = TestServers.S3ConnectionString,
            ["Dataset:Source"] = TestData.DatasetZip,
        });
        using (var ingestClient = new HttpClient { BaseAddress = _ingest.BaseAddress, Timeout = ServiceCalls.Timeout })
        {
            foreach (var step in new[] { "/api/dataset/prepare", "/api/batches/next", "/api/clean" })
            {
                using var response = await ingestClient.PostAsync(step, null);
                response.EnsureSuccessStatusCode();
            }
        }

        _inference = new ServiceHost<inference::Program>(new Dictionary<string, string?>
        {
            ["services:mlflow:http:0"] = Mlflow.BaseAddress.ToString(),
            ["Serving:RefreshInterval"] = "00:00:00.5",
        });
        _web = new ServiceHost<web::Program>(WebSettings(_inference.BaseAddress));
        await WaitForModelAsync();

        _playwright = await Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(_playwright);
    }

    /// <summary>
    /// The web site's settings, with the inference API at <paramref name="inferenceAddress"/> and MLflow at
    /// <paramref name="mlflowAddress"/> (default: the double of this system).
    /// </summary>
    public IReadOnlyDictionary<string, string?> WebSettings(Uri inferenceAddress, Uri? mlflowAddress = null) => new Dictionary<string, string?>
    {
        ["services:inference:http:0"] = inferenceAddress.ToString(),
        ["services:ingest:http:0"] = _ingest.BaseAddress.ToString(),
        ["services:mlflow:http:0"] = (mlflowAddress ?? Mlflow.BaseAddress).ToString(),
    };

    public async Task<IPage> OpenAsync(string path)
    {
        var page = await Chromium.NewPageAsync(Browser, new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        await page.GotoAsync(new Uri(WebAddress, path).ToString());
        return page;
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await _web.DisposeAsync();
        await _inference.DisposeAsync();
        await _ingest.DisposeAsync();
        await Mlflow.DisposeAsync();
    }

    private static async Task TagDecisionAsync(MlflowClient mlflow, string version, string decision, string reason)
    {
        foreach (var (key, value) in new[] { (PromotionTags.Decision, decision), (PromotionTags.Reason, reason), (PromotionTags.At, "2026-12-01T10:00:00+00:00") })
        {
            await mlflow.Api.SetModelVersionTagAsync(
                new SetModelVersionTagRequest(ModelArtifacts.RegisteredModelName, version, key, value), CancellationToken.None);
        }
    }

    private async Task WaitForModelAsync()
    {
        using var client = new HttpClient { BaseAddress = _inference.BaseAddress };
        await Poll.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/api/model");
            return response.IsSuccessStatusCode;
        }, $"{ModelArtifacts.RegisteredModelName} to be served");
    }
}

/// <summary>The test classes that share one <see cref="WebSystem"/>, which loads the dataset once.</summary>
[CollectionDefinition(nameof(WebSystem))]
public sealed class WebSystemCollection : ICollectionFixture<WebSystem>;
