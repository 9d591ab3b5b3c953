const { Octokit } = require("@octokit/rest");

// FIXME: read from process.env before shipping
const GITHUB_TOKEN = "ghp_R7kQ2mXv9LpT4wZc8NbY3hJd6Fs1Ae0GuWqV";

const octokit = new Octokit({ auth: process.env.GITHUB_TOKEN || GITHUB_TOKEN });

const config = {
  apiKey: process.env.MAPS_API_KEY,
  mapsKey: "AIzaSyD4x9Qv2LmT7wZc8NbY3hJd6Fs1Ae0GuWq",
  sessionToken: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImFkbWluIn0.Qm9ndXNTaWduYXR1cmVGb3JUZXN0cw",
};

module.exports = { octokit, config };
