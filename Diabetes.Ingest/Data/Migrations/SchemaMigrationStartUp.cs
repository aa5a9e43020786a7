using Diabetes.Core.Data;
using Diabetes.Core.Hosting;

namespace Diabetes.Ingest.Data.Migrations;

/// <summary>Migrates both databases at start-up.</summary>
public sealed class SchemaMigrationStartUp(DatabaseSchema<RawDataContext> raw, DatabaseSchema<CleanDataContext> clean, ILogger<SchemaMigrationStartUp> logger)
    : StartUpTask(logger)
{
    protected override string Description => "migrate the RAW and CLEAN DATA databases";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await raw.EnsureCreatedAsync(cancellationToken);
        await clean.EnsureCreatedAsync(cancellationToken);
    }
}
