extern alias web;

using System.Text;
using System.Text.RegularExpressions;
using Diabetes.Core.Mlflow;
using Diabetes.Core.Modeling;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Diabetes.Testing.Models;
using Diabetes.Trainer.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static System.FormattableString;

namespace Diabetes.Web.BrowserTests;

/// <summary>
/// A version's page (<c>/models/{version}</c>) in Chromium: its registry entry, its model card, its group table and its
/// plots, each checked against the files in its run; what it says of a version without them, of an unknown version, of
/// a card that holds a script, and of MLflow or its store down.
/// </summary>
[Collection(nameof(WebSystem))]
public partial class ModelVersionPageTests(WebSystem system)
{
    [Fact]
    public async Task TheModelsPageLinksToTheProductionCardWhichShowsTheCardTheGroupTableAndEveryPlot()
    {
        // Arrange: the card and the group table as version 1's run holds them
        var (card, slices) = await ReadRunFilesAsync(system.Mlflow, "1");
        var page = await system.OpenAsync("/models");

        // Act
        await page.Locator("#production-card").ClickAsync();

        // Assert: the registry's entry
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/models/1$"));
        await Assertions.Expect(page.Locator("main > h1")).ToHaveTextAsync("diabetes-readmission version 1");
        await Assertions.Expect(page.Locator("#stage")).ToHaveTextAsync("Production");
        await Assertions.Expect(page.Locator("#aliases")).ToHaveTextAsync("production");
        await Assertions.Expect(page.Locator("#decision")).ToHaveTextAsync("promoted on 2026-12-01T10:00:00+00:00");
        await Assertions.Expect(page.Locator("#reason")).ToHaveTextAsync(WebSystem.FirstReason);

        // Assert: the card rendered, its headings in order (below the page's own), its sections among them, and a real
        // figure of the model in its metrics table: the validation ROC-AUC with its interval
        var headings = Headings(card);
        Assert.Equal(ModelCard.Sections, headings.Intersect(ModelCard.Sections));
        await Assertions.Expect(page.Locator("#card").Locator("h3, h4, h5, h6")).ToHaveTextAsync(headings);
        var rocAucRow = page.Locator("#card tr").Filter(new LocatorFilterOptions { Has = page.GetByRole(AriaRole.Cell, new() { Name = "ROC-AUC [95 % CI]", Exact = true }) });
        await Assertions.Expect(rocAucRow.Locator("td").Nth(1))
            .ToHaveTextAsync(new Regex($@"^{Regex.Escape(Invariant($"{TestModels.Logistic.Validation.RocAuc:F4}"))} \[0\.\d{{4}}, 0\.\d{{4}}\]$"));

        // Assert: the group table of each split, row by row as slices.json has it, the groups too small said so
        await Assertions.Expect(page.Locator("#groups-source")).ToHaveTextAsync(
            "The figures of the card's section \"Patient groups\", read from the run's slices.json: ROC-AUC to three decimals, shares as percentages.");
        await Assertions.Expect(page.Locator("#groups-rule")).ToContainTextAsync(
            Invariant($"At the model's threshold of {slices.Threshold:F4}") + $" (a probability at or above it predicts readmission). A group with fewer than {slices.MinimumPerClass} readmitted");
        Assert.Equal(["validation", "test"], slices.Splits.Select(s => s.Split));
        Assert.Contains(slices.Splits[0].Groups, g => g.TooSmall);
        Assert.Contains(slices.Splits[0].Groups, g => !g.TooSmall);
        foreach (var split in slices.Splits)
        {
            var rows = page.Locator($"#groups-{split.Split} tbody tr");
            await Assertions.Expect(rows).ToHaveCountAsync(split.Groups.Count);
            for (var i = 0; i < split.Groups.Count; i++)
            {
                await Assertions.Expect(rows.Nth(i).Locator("td")).ToHaveTextAsync(Cells(split.Groups[i], slices.MinimumPerClass));
            }
        }

        // Assert: every plot of the run, the group plot among them, loaded
        await AssertPlotsLoadedAsync(page, ["roc_curve", "precision_recall_curve", "confusion_matrix", "feature_importance", "slices_roc_auc"]);
        await Assertions.Expect(page.Locator("figcaption").Last).ToHaveTextAsync("ROC-AUC per patient group");
        await Chromium.ScreenshotAsync(page, "model-version");
    }

    [Fact]
    public async Task AVersionWithoutACardSaysWhyAndStillShowsItsRegistryEntry()
    {
        // Arrange
        var page = await system.OpenAsync("/models");

        // Act: version 2's row links to its page
        await page.Locator("#versions tbody tr").Nth(0).GetByRole(AriaRole.Link, new() { Name = "2", Exact = true }).ClickAsync();

        // Assert
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/models/2$"));
        await Assertions.Expect(page.Locator("#stage")).ToHaveTextAsync("None");
        await Assertions.Expect(page.Locator("#decision")).ToHaveTextAsync("rejected on 2026-12-01T10:00:00+00:00");
        await Assertions.Expect(page.Locator("#reason")).ToHaveTextAsync(WebSystem.SecondReason);
        await Assertions.Expect(page.Locator("#no-card")).ToContainTextAsync("Version 2 has no model card: it was trained before the trainer wrote one (model_card.md in its run).");
        await Assertions.Expect(page.Locator("#no-groups")).ToContainTextAsync("has no group table (slices.json): it was trained before the trainer measured each group of patients.");
        await Assertions.Expect(page.Locator("#no-plots")).ToContainTextAsync("The run of version 2 has no plots.");
        Assert.Equal(0, await page.Locator("#card, img").CountAsync());
        await Chromium.ScreenshotAsync(page, "model-version-without-card");
    }

    [Fact]
    public async Task AnUnknownVersionIsANotFoundPageThatSaysWhereTheVersionsAre()
    {
        foreach (var version in new[] { "99", "latest" })
        {
            // Act
            var page = await Chromium.NewPageAsync(system.Browser);
            var response = await page.GotoAsync(new Uri(system.WebAddress, $"/models/{version}").ToString());

            // Assert
            Assert.Equal(404, response!.Status);
            await Assertions.Expect(page.Locator("#unknown")).ToHaveTextAsync(
                $"Version {version} of diabetes-readmission is not registered. The registered versions are listed on Models.");
            await Assertions.Expect(page.Locator("#unknown a")).ToHaveAttributeAsync("href", "/Models");
            await Chromium.ScreenshotAsync(page, $"model-version-unknown-{version}");
        }
    }

    [Fact]
    public async Task AScriptInACardIsShownAsTextAndNeverRuns()
    {
        // Arrange: a card with a script, an image that runs code when it fails, a tracking pixel, and javascript: links
        // written inline, as an autolink and as a reference
        const string Tampered = """
            <script>window.cardScriptRan = true;</script>

            <img src="x" onerror="window.cardImageRan = true">

            [Open the record](javascript:window.cardLinkRan=true)

            ![tracking pixel](http://127.0.0.1:9/pixel.png)

            <javascript:window.cardAutolinkRan=true>

            [Open the chart][chart]

            [chart]: javascript:window.cardReferenceRan=true
            """;
        await using var site = await SiteWithOwnMlflow.StartAsync(system);
        await site.RewriteCardAsync(card => $"{card}\n\n{Tampered}");

        // Act
        var page = await Chromium.NewPageAsync(system.Browser);
        await page.GotoAsync(new Uri(site.Address, "/models/1").ToString());
        await page.GetByText("Open the record").ClickAsync();
        await page.GetByText("Open the chart").ClickAsync();
        await page.GetByText("javascript:window.cardAutolinkRan=true").ClickAsync();

        // Assert: the card shows the markup as it is written, and none of it ran
        await Assertions.Expect(page.Locator("#card")).ToContainTextAsync("<script>window.cardScriptRan = true;</script>");
        await Assertions.Expect(page.Locator("#card")).ToContainTextAsync("<img src=\"x\" onerror=\"window.cardImageRan = true\">");
        await Assertions.Expect(page.Locator("#card")).ToContainTextAsync("tracking pixel");
        Assert.Equal(0, await page.Locator("#card script, #card img, #card a[href^='javascript']").CountAsync());
        Assert.Equal("", await page.EvaluateAsync<string>(
            "() => ['cardScriptRan', 'cardImageRan', 'cardLinkRan', 'cardAutolinkRan', 'cardReferenceRan'].filter(name => name in window).join()"));
        await Assertions.Expect(page.Locator("#card h4").First).ToHaveTextAsync(ModelCard.Sections[0]);
        await Chromium.ScreenshotAsync(page, "model-version-tampered-card");
    }

    [Fact]
    public async Task WhenTheArtifactStoreFailsTheCardAndTheGroupTableSaySoAndThePlotsStillShow()
    {
        // Arrange: the store fails the next two downloads, which are the card's and slices.json's
        await using var site = await SiteWithOwnMlflow.StartAsync(system);
        site.Mlflow.FailingDownloads = 2;

        // Act
        var page = await Chromium.NewPageAsync(system.Browser);
        var response = await page.GotoAsync(new Uri(site.Address, "/models/1").ToString());

        // Assert
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#card-problem")).ToHaveTextAsync(
            "The model card of version 1 cannot be read right now: MLflow or its artifact store did not answer. Try again shortly.");
        await Assertions.Expect(page.Locator("#groups-problem")).ToHaveTextAsync(
            "The group table of version 1 cannot be read right now: MLflow or its artifact store did not answer. Try again shortly.");
        await Assertions.Expect(page.Locator("#stage")).ToHaveTextAsync("Production");
        await AssertPlotsLoadedAsync(page, ["roc_curve", "slices_roc_auc"]);
        await Chromium.ScreenshotAsync(page, "model-version-store-down");
    }

    [Fact]
    public async Task WhenMlflowCannotBeReachedThePageSaysSo()
    {
        // Arrange: the site pointed at an MLflow that is not there
        await using var site = new ServiceHost<web::Program>(system.WebSettings(system.InferenceAddress, new Uri("http://127.0.0.1:9")));
        var page = await Chromium.NewPageAsync(system.Browser);

        // Act
        var response = await page.GotoAsync(new Uri(site.BaseAddress, "/models/1").ToString());

        // Assert
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("#problem")).ToHaveTextAsync("MLflow cannot be reached right now, so version 1 cannot be shown. Try again shortly.");
        await Chromium.ScreenshotAsync(page, "model-version-mlflow-down");
    }

    /// <summary>Asserts that each plot's image is on the page and was loaded (its PNG decoded: a natural width).</summary>
    internal static async Task AssertPlotsLoadedAsync(IPage page, IEnumerable<string> plots)
    {
        foreach (var plot in plots)
        {
            var image = page.Locator($"#plot-{plot}");
            await Assertions.Expect(image).ToBeVisibleAsync();
            await Assertions.Expect(image).ToHaveJSPropertyAsync("complete", true);
            Assert.True(await image.EvaluateAsync<int>("img => img.naturalWidth") > 100, $"{plot} did not load");
        }
    }

    /// <summary>The card and the group table in a version's run, read back from MLflow.</summary>
    private static async Task<(string Card, ModelSlices Slices)> ReadRunFilesAsync(MlflowServerDouble server, string version)
    {
        await using var services = MlflowClients.Create(server.BaseAddress);
        var mlflow = services.GetRequiredService<MlflowClient>();
        var run = await RunOfAsync(mlflow, version);
        var card = await mlflow.DownloadArtifactAsync(run.ArtifactUri, ModelArtifacts.ModelCardFile, CancellationToken.None);
        var slices = await mlflow.DownloadArtifactAsync(run.ArtifactUri, ModelSlices.FileName, CancellationToken.None);
        return (Encoding.UTF8.GetString(card), ModelSlices.Parse(slices));
    }

    private static async Task<RunInfo> RunOfAsync(MlflowClient mlflow, string version)
    {
        var found = (await mlflow.Api.GetModelVersionAsync(ModelArtifacts.RegisteredModelName, version, CancellationToken.None)).ModelVersion;
        return (await mlflow.Api.GetRunAsync(found.RunId!, CancellationToken.None)).Run.Info;
    }

    /// <summary>The headings of a Markdown text, outside code blocks, in order.</summary>
    private static string[] Headings(string markdown)
    {
        var inCode = false;
        var headings = new List<string>();
        foreach (var line in markdown.Split('\n'))
        {
            inCode ^= line.TrimStart().StartsWith("```", StringComparison.Ordinal);
            if (!inCode && HeadingLine().Match(line) is { Success: true } heading)
            {
                headings.Add(heading.Groups["text"].Value.Trim());
            }
        }

        return [.. headings];
    }

    /// <summary>A group's row as the page should write it: figures to three decimals, shares as percentages.</summary>
    private static string[] Cells(GroupMetrics group, int minimumPerClass)
    {
        string[] counts = [$"{char.ToUpperInvariant(group.Attribute[0])}{group.Attribute[1..]}: {group.Group}", Invariant($"{group.Rows:N0}"), Invariant($"{group.Positives:N0}")];
        return group.RocAuc is { } auc
            ? [.. counts, Invariant($"{auc.Value:F3} [{auc.Low:F3}, {auc.High:F3}]"), Invariant($"{group.PredictedPositiveRate:P1}"),
                Invariant($"{group.TruePositiveRate:P1}"), Invariant($"{group.FalsePositiveRate:P1}")]
            : [.. counts, $"too small (fewer than {minimumPerClass} in a class)"];
    }

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex HeadingLine();

    /// <summary>A site of its own and an MLflow double of its own, holding version 1 (in Production) with its plots, group table and card.</summary>
    private sealed class SiteWithOwnMlflow : IAsyncDisposable
    {
        private ServiceHost<web::Program> _site = null!;

        public MlflowServerDouble Mlflow { get; private init; } = null!;

        public Uri Address => _site.BaseAddress;

        public static async Task<SiteWithOwnMlflow> StartAsync(WebSystem system)
        {
            var own = new SiteWithOwnMlflow { Mlflow = await MlflowServerDouble.StartAsync() };
            await using (var services = MlflowClients.Create(own.Mlflow.BaseAddress))
            {
                await TestModels.PublishAsync(services.GetRequiredService<MlflowClient>(), TestModels.Logistic, withPlots: true, withCard: true);
            }

            own._site = new ServiceHost<web::Program>(system.WebSettings(system.InferenceAddress, own.Mlflow.BaseAddress));
            return own;
        }

        /// <summary>Replaces version 1's card with what <paramref name="rewrite"/> makes of it, as someone with access to the store could.</summary>
        public async Task RewriteCardAsync(Func<string, string> rewrite)
        {
            await using var services = MlflowClients.Create(Mlflow.BaseAddress);
            var mlflow = services.GetRequiredService<MlflowClient>();
            var run = await RunOfAsync(mlflow, "1");
            var card = Encoding.UTF8.GetString(await mlflow.DownloadArtifactAsync(run.ArtifactUri, ModelArtifacts.ModelCardFile, CancellationToken.None));
            await mlflow.UploadArtifactAsync(run, ModelArtifacts.ModelCardFile, Encoding.UTF8.GetBytes(rewrite(card)), "text/markdown", CancellationToken.None);
        }

        public async ValueTask DisposeAsync()
        {
            await _site.DisposeAsync();
            await Mlflow.DisposeAsync();
        }
    }
}
