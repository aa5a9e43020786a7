using Microsoft.EntityFrameworkCore;

namespace Diabetes.InferenceApi.Data;

/// <summary>
/// The prediction log's schema history (database <c>monitoring</c>, which this service owns): the versioned migrations
/// of this folder, applied with EF Core and recorded in <see cref="HistoryTable"/>, a table of its own so that a
/// database shared with another service's migrations stays unambiguous. The rows are written with binary COPY.
/// </summary>
public sealed class MonitoringDataContext(DbContextOptions<MonitoringDataContext> options) : DbContext(options)
{
    public const string HistoryTable = "__MonitoringMigrationsHistory";
}
