// Lets the functional tests start the service with WebApplicationFactory<Program>.
public partial class Program;
