// Deployment settings of the public page. docker-compose (or any web server) may replace this
// file; see web/README.md. Left null, each URL defaults to the page's own host on the default
// port (Rasa 5005, backend 8000), which is what `make run` serves locally.
window.GE_CONFIG = {
  // Where Rasa listens (its socket.io channel is at <rasaUrl>/socket.io/).
  rasaUrl: null,
  // Where the FastAPI backend listens (the page reads <backendUrl>/api/v1/services).
  backendUrl: null,
  // Whether ?rasa=...&backend=... in the page's address may override the two URLs (handy for
  // tests and local work). Set it to false on a public deployment, so that nobody can hand out a
  // link that points the widget at another server.
  allowUrlOverride: true,
};
