using ScottPlot;

namespace Diabetes.Web.Charts;

/// <summary>A ScottPlot chart as inline SVG, the size the site's pages draw at (CSS scales it down on narrow screens).</summary>
public static class ChartSvg
{
    public const int Width = 720;
    public const int Height = 360;

    public static string Of(Plot plot, int height = Height, int width = Width) => plot.GetSvgXml(width, height);
}
