using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Diabetes.Web.Cards;

/// <summary>
/// A model card, Markdown read from a run's artifacts, as HTML for a page. The card is data from a store, not markup
/// of the site: HTML in it is shown as text, an image keeps only its words (a card loads nothing, a tracking pixel
/// included), and a link to anything but http(s), mailto or a place in the card (<c>javascript:</c>, <c>data:</c>, a
/// path of the store) keeps its words and loses its address, written inline, as a reference or as an autolink. Its
/// headings are put below the page's own: the card's title is an <c>h3</c> under the page's "Model card" <c>h2</c>.
/// </summary>
public static class ModelCardHtml
{
    private const int HeadingsBelow = 2;

    // CommonMark and the pipe tables the trainer writes, nothing more: every extension is markup a tampered card could use.
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .Build();

    private static readonly string[] SafeSchemes = [Uri.UriSchemeHttp, Uri.UriSchemeHttps, Uri.UriSchemeMailto];

    public static string Render(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        // Collected before any change: the tree cannot be walked while it is being changed.
        var unsafeLinks = document.Descendants<Inline>()
            .Where(inline => inline switch
            {
                LinkInline link => link.IsImage || !IsSafe(link.Url),
                AutolinkInline autolink => !IsSafe(autolink.Url),
                _ => false,
            })
            .ToList();
        foreach (var link in unsafeLinks)
        {
            KeepWordsOnly(link);
        }

        foreach (var heading in document.Descendants<HeadingBlock>())
        {
            heading.Level = Math.Min(heading.Level + HeadingsBelow, 6);
        }

        return document.ToHtml(Pipeline);
    }

    private static bool IsSafe(string? url) =>
        url is not null && (url.StartsWith('#')
            || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && SafeSchemes.Contains(uri.Scheme)));

    /// <summary>Puts a link's words (an image's alt text, an autolink's address as text) where the link was.</summary>
    private static void KeepWordsOnly(Inline link)
    {
        if (link is AutolinkInline autolink)
        {
            autolink.InsertBefore(new LiteralInline(autolink.Url));
        }
        else if (link is ContainerInline container)
        {
            while (container.FirstChild is { } child)
            {
                child.Remove();
                container.InsertBefore(child);
            }
        }

        link.Remove();
    }
}
