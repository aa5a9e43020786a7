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

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, $"{name}.png"), FullPage = true });
}
