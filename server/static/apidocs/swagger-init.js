// Starts Swagger UI on /schema/swagger from a file, so the page needs no inline script.
const { url } = document.currentScript.dataset;

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  return found && decodeURIComponent(found.slice(prefix.length));
}

window.ui = window.SwaggerUIBundle({
  url,
  dom_id: "#swagger-container",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  // "Try it out" with a signed-in session: cookie-authenticated writes need the CSRF header.
  requestInterceptor: (request) => {
    const csrf = cookie("hearth_csrf");
    if (csrf) request.headers["X-CSRF-Token"] = csrf;
    return request;
  },
});
