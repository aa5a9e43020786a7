namespace Diabetes.AppHost;

internal static class PostgresExtensions
{
    /// <summary>The SQLAlchemy URL of a database of the server, the form MLflow and Airflow read.</summary>
    public static ReferenceExpression SqlAlchemyUri(this PostgresServerResource server, string database) =>
        ReferenceExpression.Create(
            $"postgresql+psycopg2://postgres:{server.PasswordParameter}@{server.PrimaryEndpoint.Property(EndpointProperty.Host)}:{server.PrimaryEndpoint.Property(EndpointProperty.Port)}/{database}");
}
