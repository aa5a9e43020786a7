using Aspire.Hosting.Publishing;

namespace Diabetes.AppHost;

/// <summary>
/// A parameter's default value that configuration (<c>Parameters:{name}</c>) may override, unlike the value given to
/// <c>AddParameter(name, value)</c>, which is fixed at run time. Published as the manifest input's default.
/// </summary>
internal sealed class ValueParameterDefault(string value) : ParameterDefault
{
    public override string GetDefaultValue() => value;

    public override void WriteToManifest(ManifestPublishingContext context) => context.Writer.WriteString("value", value);
}
