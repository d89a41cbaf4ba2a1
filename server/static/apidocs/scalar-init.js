// Starts Scalar on /schema from a file, so the page needs no inline script. What would reach
// scalar.com (its web fonts, the AI agent, the MCP and share/deploy tools) is off, so the
// page works offline and stays within the site's own origin.
const { url } = document.currentScript.dataset;
window.Scalar.createApiReference("#reference", {
  url,
  withDefaultFonts: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
});
