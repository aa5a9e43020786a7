using Microsoft.EntityFrameworkCore;

namespace Diabetes.Trainer.Data;

/// <summary>
/// The trainer's own tables in CLEAN DATA's database (the job leases): versioned migrations of this folder, applied
/// with EF Core and recorded in <see cref="HistoryTable"/>. The ingest service migrates the same database with EF
/// Core's default history table; with a table each, neither takes the other's migrations for its own, whichever starts
/// first. The rows are read and written with Npgsql.
/// </summary>
public sealed class TrainerDataContext(DbContextOptions<TrainerDataContext> options) : DbContext(options)
{
    public const string HistoryTable = "__TrainerMigrationsHistory";
}
