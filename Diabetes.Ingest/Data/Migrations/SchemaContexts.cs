using Microsoft.EntityFrameworkCore;

namespace Diabetes.Ingest.Data.Migrations;

/// <summary>
/// RAW DATA's schema history: the versioned migrations of this folder, applied with EF Core (recorded in
/// <c>__EFMigrationsHistory</c>, under EF Core's migration lock). The rows themselves are read and written with
/// Npgsql, the bulk ones with binary COPY.
/// </summary>
public sealed class RawDataContext(DbContextOptions<RawDataContext> options) : DbContext(options);

/// <summary>CLEAN DATA's schema history, as <see cref="RawDataContext"/> is RAW DATA's.</summary>
public sealed class CleanDataContext(DbContextOptions<CleanDataContext> options) : DbContext(options);
