// Lets the browser tests start the site with WebApplicationFactory<Program>.
public partial class Program;
