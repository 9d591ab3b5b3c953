const https = require("https");
const crypto = require("crypto");

function renderComment(comment) {
  const el = document.getElementById("comments");
  el.innerHTML += "<li>" + comment.body + "</li>";
}

function applyFilter(expression, row) {
  return eval(expression);
}

const agent = new https.Agent({ rejectUnauthorized: false });

function cacheKey(url) {
  return crypto.createHash("md5").update(url).digest("hex");
}

function greet(name) {
  document.getElementById("hello").textContent = `Hello, ${name}`;
}

module.exports = { renderComment, applyFilter, agent, cacheKey, greet };
