// Starts Swagger UI on /docs over the app's OpenAPI document (a file, not an inline script: the CSP forbids those).
"use strict";
window.addEventListener("load", () => {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
