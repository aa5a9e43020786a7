using Microsoft.Playwright;

namespace Diabetes.Testing;

/// <summary>
/// Debian's Chromium (<c>apt-get install chromium</c>) driven by Playwright, which never downloads a browser here;
/// shared as source by the test projects that open the web site.
/// </summary>
internal static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Where screenshots go: <c>artifacts/screenshots</c> of the repository (or <c>DIABETES_SCREENSHOTS</c>).</summary>
    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("DIABETES_SCREENSHOTS")
        ?? Path.Combine(TestData.RepositoryRoot, "artifacts", "screenshots");

    /// <summary>
    /// How long a page action, a navigation or an expectation may wait for the page (Playwright's defaults: 30 s and
    /// 5 s): a prediction goes from the site to the API and back, which a machine busy with other work slows down.
    /// Only a safety net, as <see cref="Poll.Limit"/> is.
    /// </summary>
    private static readonly float Timeout = (float)Poll.Limit.TotalMilliseconds;

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        Assertions.SetDefaultExpectTimeout(Timeout);
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    /// <summary>A new page (in a context of its own) whose actions and navigations wait as long as <see cref="Timeout"/>.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, BrowserNewPageOptions? options = null)
    {
        var page = await browser.NewPageAsync(options);
        page.SetDefaultTimeout(Timeout);
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"{name}.png"), FullPage = true });
}
