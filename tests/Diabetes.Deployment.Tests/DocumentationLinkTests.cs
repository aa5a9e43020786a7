using System.Text;
using System.Text.RegularExpressions;
using Diabetes.Testing;

namespace Diabetes.Deployment.Tests;

/// <summary>
/// The links of the guides (README.md, docs/*.md, airflow/README.md) checked as GitHub renders them: every relative
/// link reaches a file or folder of the repository, every <c>#anchor</c> a heading of its file, and README.md links
/// every guide of docs/. Links with a scheme (http, https, mailto) are not followed: the test machines have no internet.
/// </summary>
public partial class DocumentationLinkTests
{
    private const string Readme = "README.md";

    /// <summary>The guides of docs/, as paths from the repository's root.</summary>
    private static string[] Guides() =>
        Directory.GetFiles(Path.Combine(TestData.RepositoryRoot, "docs"), "*.md")
            .Select(path => $"docs/{Path.GetFileName(path)}")
            .Order(StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<string> Documents() => new([Readme, "airflow/README.md", .. Guides()]);

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryRelativeLinkReachesAFileAndItsHeading(string document)
    {
        // Arrange
        var links = MarkdownFile.Read(document).Links;

        // Act
        var broken = links.Select(link => WhatIsMissing(document, link)).OfType<string>().ToArray();

        // Assert
        Assert.True(broken.Length == 0, string.Join('\n', broken));
    }

    [Fact]
    public void TheReadmeLinksEveryGuideOfTheDocsFolder()
    {
        // Arrange
        var guides = Guides();

        // Act
        var linked = MarkdownFile.Read(Readme).Links.Select(link => link.Target).ToHashSet(StringComparer.Ordinal);
        var unlinked = guides.Where(guide => !linked.Contains(guide)).ToArray();

        // Assert
        Assert.NotEmpty(guides);
        Assert.True(unlinked.Length == 0, $"{Readme} has no link to {string.Join(", ", unlinked)}: a guide nobody links is never found.");
    }

    /// <summary>What a link of <paramref name="document"/> lacks, or null when it reaches its file and heading.</summary>
    private static string? WhatIsMissing(string document, Link link)
    {
        var where = $"{document}:{link.Line}: the link {link.Written}";
        if (link.Target == ".." || link.Target.StartsWith("../", StringComparison.Ordinal))
        {
            return $"{where} leaves the repository ({link.Target}), which GitHub cannot show.";
        }

        var path = Path.Combine(TestData.RepositoryRoot, link.Target);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return $"{where} names {link.Target}, which does not exist.";
        }

        if (link.Anchor is null)
        {
            return null;
        }

        if (!link.Target.EndsWith(".md", StringComparison.Ordinal) || !File.Exists(path))
        {
            return $"{where} has the anchor #{link.Anchor}, but {link.Target} is not a Markdown file with headings.";
        }

        var anchors = MarkdownFile.Read(link.Target).Anchors;
        return anchors.Contains(link.Anchor)
            ? null
            : $"{where}: {link.Target} has no heading whose anchor is #{link.Anchor} (its anchors: {string.Join(", ", anchors.Order(StringComparer.Ordinal))}).";
    }

    /// <summary>A relative link: its line, the link as written, the file it names (from the repository's root) and its anchor.</summary>
    private sealed record Link(int Line, string Written, string Target, string? Anchor);

    /// <summary>The relative links of a Markdown file and the anchors of its headings, code blocks and code spans left out.</summary>
    private sealed record MarkdownFile(IReadOnlyList<Link> Links, IReadOnlySet<string> Anchors)
    {
        /// <param name="document">The file's path from the repository's root.</param>
        public static MarkdownFile Read(string document)
        {
            var links = new List<Link>();
            var anchors = new HashSet<string>(StringComparer.Ordinal);
            var inCodeBlock = false;
            var lines = File.ReadAllLines(Path.Combine(TestData.RepositoryRoot, document));
            for (var i = 0; i < lines.Length; i++)
            {
                var trimmed = lines[i].TrimStart();
                if (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal))
                {
                    inCodeBlock = !inCodeBlock;
                    continue;
                }

                if (inCodeBlock)
                {
                    continue;
                }

                if (Heading().Match(lines[i]) is { Success: true } heading)
                {
                    anchors.Add(UniqueAnchor(GitHubAnchor(heading.Groups["title"].Value), anchors));
                }

                foreach (Match link in MarkdownLink().Matches(CodeSpan().Replace(lines[i], "")))
                {
                    var target = link.Groups["target"].Value;
                    if (ExternalScheme().IsMatch(target))
                    {
                        continue;
                    }

                    var hash = target.IndexOf('#');
                    var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
                    var anchor = hash < 0 ? null : target[(hash + 1)..];
                    links.Add(new Link(i + 1, link.Value, Resolve(document, file), anchor));
                }
            }

            return new MarkdownFile(links, anchors);
        }

        /// <summary>A link's file as a path from the repository's root: an empty one is the document itself, one
        /// starting with <c>/</c> starts at the root (as on GitHub), any other starts at the document's folder.</summary>
        private static string Resolve(string document, string file)
        {
            if (file.Length == 0)
            {
                return document;
            }

            var root = TestData.RepositoryRoot;
            var folder = file.StartsWith('/') ? root : Path.GetDirectoryName(Path.Combine(root, document))!;
            var full = Path.GetFullPath(Path.Combine(folder, file.TrimStart('/')));
            return Path.GetRelativePath(root, full).Replace(Path.DirectorySeparatorChar, '/');
        }

        /// <summary>GitHub's anchor of a heading: its text (a link's text only), lower-case, spaces turned into
        /// '-', every other character but letters, digits, '-' and '_' removed (code spans keep their text).</summary>
        private static string GitHubAnchor(string title)
        {
            var anchor = new StringBuilder();
            foreach (var c in MarkdownLink().Replace(title, "${text}").ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    anchor.Append(c);
                }
                else if (c == ' ')
                {
                    anchor.Append('-');
                }
            }

            return anchor.ToString();
        }

        /// <summary>GitHub numbers a repeated anchor: the second <c>setup</c> is <c>setup-1</c>.</summary>
        private static string UniqueAnchor(string anchor, HashSet<string> taken)
        {
            var unique = anchor;
            for (var n = 1; taken.Contains(unique); n++)
            {
                unique = $"{anchor}-{n}";
            }

            return unique;
        }
    }

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<title>.*?)(\s+#+)?\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex ExternalScheme();
}
