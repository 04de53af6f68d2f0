// The web page's settings in the compose stack: nginx (docker/nginx.conf) serves the page and
// proxies /socket.io/ to Rasa and /api/ to the backend on the same origin.
window.GE_CONFIG = {
  rasaUrl: "/",
  backendUrl: "/",
  // Nobody can hand out a link that points the widget at another server.
  allowUrlOverride: false,
};
