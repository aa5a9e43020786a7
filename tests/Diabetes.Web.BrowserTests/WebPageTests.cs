extern alias inference;
extern alias web;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Diabetes.MlflowDouble;
using Diabetes.Testing;
using Microsoft.Playwright;
using web::Diabetes.Web.Charts;
using web::Diabetes.Web.Forms;
using web::Diabetes.Web.Pages;

namespace Diabetes.Web.BrowserTests;

/// <summary>The web site in Debian's Chromium, as a person uses it; each test leaves a screenshot in artifacts/screenshots.</summary>
[Collection(nameof(WebSystem))]
public class WebPageTests(WebSystem system)
{
    [Fact]
    public async Task ThePredictPageStartsWithATypicalPatientAndShowsTheProbabilityAndTheModelVersion()
    {
        // Arrange
        var page = await system.OpenAsync("/");

        // Assert: the defaults, with readable labels
        Assert.Equal("[70-80)", await page.Locator("#field-age").InputValueAsync());
        Assert.Equal("70–80", (await page.Locator("#field-age option:checked").TextContentAsync())?.Trim());
        Assert.Equal("1", await page.Locator("#field-admission_type_id").InputValueAsync());
        Assert.Contains("Emergency", await page.Locator("#field-admission_type_id option:checked").TextContentAsync());
        Assert.Equal("428", await page.Locator("#field-diag_1").InputValueAsync());
        Assert.Equal("15", await page.Locator("#field-num_medications").InputValueAsync());

        // Act
        await page.Locator("#predict").ClickAsync();

        // Assert: a probability and the version that made it
        await Assertions.Expect(page.Locator("#probability")).ToHaveTextAsync(new Regex(@"^\d{1,3}\.\d %$"));
        await Assertions.Expect(page.Locator("#model-version")).ToContainTextAsync("diabetes-readmission version 1 (LbfgsLogisticRegression, trained on 8,000 encounters");
        await Assertions.Expect(page.Locator("#decision")).ToContainTextAsync("threshold");
        await Chromium.ScreenshotAsync(page, "predict");
    }

    [Fact]
    public async Task ThePredictionShowsWhatRaisedTheRiskAndWhatLoweredItWithReadableLabels()
    {
        // Arrange: the API's own explanation of the typical patient, the five largest contributions of each sign
        var page = await system.OpenAsync("/");
        using var api = new HttpClient { BaseAddress = system.InferenceAddress };
        using var response = await api.PostAsJsonAsync("/api/predictions?explain=true&top=50", EncounterForm.ToRequest(EncounterForm.TypicalValues()));
        var contributions = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("explanation").GetProperty("contributions")
            .EnumerateArray().Select(c => (Field: c.GetProperty("field").GetString()!, Value: c.GetProperty("value"), Contribution: c.GetProperty("contribution").GetDouble()))
            .ToArray();
        string[] Labels(bool raised) => contributions.Where(c => raised ? c.Contribution > 0 : c.Contribution < 0)
            .Take(PredictionView.Shown).Select(c => EncounterForm.Describe(c.Field, c.Value)).ToArray();

        // Act
        await page.Locator("#predict").ClickAsync();
        await Assertions.Expect(page.Locator("#explanation")).ToBeVisibleAsync();

        // Assert: each chart shows its five with "field: value" labels, in the API's order, largest first
        foreach (var (chart, raised) in new[] { ("#raised", true), ("#lowered", false) })
        {
            var labels = Labels(raised);
            Assert.Equal(PredictionView.Shown, labels.Length);
            var texts = await page.Locator($"{chart} svg text").AllTextContentsAsync();
            var shown = texts.Select(text => text.Trim()).Where(labels.Contains).ToArray();
            Assert.Equal(labels, shown);
            // each bar's value to 3 significant digits, however small
            var values = contributions.Where(c => raised ? c.Contribution > 0 : c.Contribution < 0).Take(PredictionView.Shown)
                .Select(c => ExplanationCharts.Signed(c.Contribution)).ToArray();
            Assert.Subset(texts.Select(text => text.Trim()).ToHashSet(), values.ToHashSet());
        }

        Assert.Equal("Inpatient visits in the past year: 3", EncounterForm.Describe("number_inpatient", JsonSerializer.SerializeToElement(3)));
        Assert.Equal("Admission type: 1 – Emergency", EncounterForm.Describe("admission_type_id", JsonSerializer.SerializeToElement(1)));
        Assert.Equal("Admission type: 1 – Emergency", EncounterForm.Describe("admission_type_id", JsonDocument.Parse("1.0").RootElement));
        Assert.Equal("Age (years): 70–80", EncounterForm.Describe("age", JsonSerializer.SerializeToElement("[70-80)")));
        Assert.Equal(["+0.0004", "−0.000412", "+1.23", "−12.3", "+1235"],
            new[] { 0.0004, -0.00041234, 1.23456, -12.345, 1234.6 }.Select(ExplanationCharts.Signed));
        await Assertions.Expect(page.Locator("#explanation .note")).ToContainTextAsync(
            "over the validation split (2,000 encounters) the mean score is");
        await Chromium.ScreenshotAsync(page, "predict-explained");
    }

    [Fact]
    public async Task AnInvalidValueIsExplainedBesideItsFieldAndTheInputIsKept()
    {
        // Arrange
        var page = await system.OpenAsync("/");
        await page.Locator("#field-num_medications").FillAsync("-3");
        await page.Locator("#field-race").SelectOptionAsync("Asian");
        await page.Locator("#field-diag_2").FillAsync("heart");

        // Act
        await page.Locator("#predict").ClickAsync();

        // Assert
        await Assertions.Expect(page.Locator("#error-num_medications")).ToContainTextAsync("-3 is not a whole number from 0 to 81");
        await Assertions.Expect(page.Locator("#error-diag_2")).ToContainTextAsync("'heart' is not an ICD-9 code");
        Assert.Equal("-3", await page.Locator("#field-num_medications").InputValueAsync());
        Assert.Equal("Asian", await page.Locator("#field-race").InputValueAsync());
        Assert.Equal(0, await page.Locator("#result").CountAsync());
        await Chromium.ScreenshotAsync(page, "predict-invalid");
    }

    [Fact]
    public async Task TheModelsPageShowsTheProductionVersionItsHistoryAndItsPlotsAndLinksEachVersionToItsPage()
    {
        // Act
        var page = await system.OpenAsync("/models");

        // Assert
        await Assertions.Expect(page.Locator("#production h2")).ToHaveTextAsync("In Production: version 1");
        await Assertions.Expect(page.Locator("#production")).ToContainTextAsync($"in Production since 2026-12-01T10:00:00+00:00");
        await Assertions.Expect(page.Locator("#production .reason")).ToHaveTextAsync(WebSystem.FirstReason);
        var rows = page.Locator("#versions tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync(WebSystem.SecondReason);
        await Assertions.Expect(rows.Nth(0)).ToContainTextAsync("rejected");
        await Assertions.Expect(rows.Nth(1)).ToContainTextAsync("Production, alias production");
        await Assertions.Expect(rows.Nth(1)).ToContainTextAsync("promoted");
        await Assertions.Expect(rows.Nth(0).GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", "/models/2");
        await Assertions.Expect(rows.Nth(1).GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", "/models/1");
        await Assertions.Expect(page.Locator("#production-card")).ToHaveAttributeAsync("href", "/models/1");
        await ModelVersionPageTests.AssertPlotsLoadedAsync(page, ["roc_curve", "precision_recall_curve", "confusion_matrix", "feature_importance", "slices_roc_auc"]);

        await Chromium.ScreenshotAsync(page, "models");
    }

    [Fact]
    public async Task TheDataPageShowsTheAnalysisAsPicturesAndTheLedger()
    {
        // Act: the page asks the ingest service when it is opened, for 15 s at most; on a machine busy enough for the
        // analysis to take longer it says so, as it should, and a person opens it again
        IPage? page = null;
        await Poll.UntilAsync(async () =>
        {
            if (page is not null)
            {
                await page.CloseAsync();
            }

            page = await system.OpenAsync("/data");
            return await page.GetByRole(AriaRole.Alert).CountAsync() == 0;
        }, "the data page to get the analysis from the ingest service");
        Assert.NotNull(page);

        // Assert
        foreach (var chart in new[] { "class-balance", "missing", "batches" })
        {
            await Assertions.Expect(page.Locator($"#chart-{chart} svg")).ToBeVisibleAsync();
        }

        await Assertions.Expect(page.Locator("#chart-missing svg")).ToContainTextAsync("medical_specialty");
        await Assertions.Expect(page.Locator("#ledger tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#ledger")).ToContainTextAsync("15,000");
        await Chromium.ScreenshotAsync(page, "data");
    }

    [Fact]
    public async Task WhenTheApiCannotBeReachedThePageSaysSoAndKeepsTheInput()
    {
        // Arrange: the site pointed at an inference API that is not there
        await using var site = new ServiceHost<web::Program>(system.WebSettings(new Uri("http://127.0.0.1:9")));
        var page = await Chromium.NewPageAsync(system.Browser);
        await page.GotoAsync(site.BaseAddress.ToString());
        await page.Locator("#field-num_medications").FillAsync("23");

        // Act
        await page.Locator("#predict").ClickAsync();

        // Assert
        await Assertions.Expect(page.Locator("#problem")).ToContainTextAsync("the inference service cannot be reached");
        Assert.Equal("23", await page.Locator("#field-num_medications").InputValueAsync());
        await Chromium.ScreenshotAsync(page, "predict-api-down");
    }

    [Fact]
    public async Task WithNoModelInProductionThePageSaysSoAndKeepsTheInput()
    {
        // Arrange: an inference API whose MLflow holds no model, and the site pointed at it
        await using var emptyMlflow = await MlflowServerDouble.StartAsync();
        await using var inference = new ServiceHost<inference::Program>(new Dictionary<string, string?>
        {
            ["services:mlflow:http:0"] = emptyMlflow.BaseAddress.ToString(),
        });
        await using var site = new ServiceHost<web::Program>(system.WebSettings(inference.BaseAddress));
        var page = await Chromium.NewPageAsync(system.Browser);
        await page.GotoAsync(site.BaseAddress.ToString());
        await page.Locator("#field-race").SelectOptionAsync("Hispanic");

        // Act
        await page.Locator("#predict").ClickAsync();

        // Assert
        await Assertions.Expect(page.Locator("#problem")).ToContainTextAsync("No prediction:");
        await Assertions.Expect(page.Locator("#problem")).ToContainTextAsync("Production");
        Assert.Equal("Hispanic", await page.Locator("#field-race").InputValueAsync());
        await Chromium.ScreenshotAsync(page, "predict-no-model");
    }
}
