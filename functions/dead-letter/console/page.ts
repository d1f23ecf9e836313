// The console's HTML: the shell that app.ts fills from the API. No data, no inline script or style (the
// Content-Security-Policy forbids both); every control has a label, every region a heading.
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Dead letters · Medlab operators</title>
<link rel="icon" type="image/svg+xml" href="?asset=icon.svg">
<link rel="stylesheet" href="?asset=app.css">
<script src="?asset=app.js" defer></script>
</head>
<body>
<header class="bar">
  <h1>Dead letters</h1>
  <p id="who" hidden><span id="who-name"></span> <button type="button" id="signout">Sign out</button></p>
</header>

<div id="problem" class="problem" role="alert" hidden></div>
<p id="status" class="status" role="status" aria-live="polite"></p>

<section id="signin" aria-labelledby="signin-title" class="card narrow">
  <h2 id="signin-title">Sign in</h2>
  <form id="signin-form">
    <label for="token">Staff token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <p class="hint">A staff token holding the operator grant (<code>npm start</code> prints one; <code>npm run token -- staff ops-1 --grant operator --grant phi</code> mints one). It stays in this browser tab only, until you sign out or close it.</p>
    <button type="submit">Sign in</button>
  </form>
</section>

<main id="console" hidden>
  <section aria-labelledby="overview-title" class="card">
    <div class="row">
      <h2 id="overview-title">Overview</h2>
      <label for="hours">Window</label>
      <select id="hours">
        <option value="1">last hour</option>
        <option value="6">last 6 hours</option>
        <option value="24" selected>last 24 hours</option>
        <option value="168">last 7 days</option>
        <option value="720">last 30 days</option>
      </select>
      <button type="button" id="refresh">Refresh</button>
    </div>
    <dl id="counts" class="counts"></dl>
    <figure class="chart">
      <figcaption id="chart-title">Letters received over time, by system</figcaption>
      <div id="chart"></div>
      <ul id="legend" class="legend" aria-label="Systems"></ul>
    </figure>
  </section>

  <section aria-labelledby="groups-title" class="card">
    <h2 id="groups-title">Groups</h2>
    <p class="hint">Alike failures: the same consumer, event type, status code and reason (ids and values taken out).</p>
    <table id="groups">
      <thead><tr><th scope="col">Select</th><th scope="col">Event type</th><th scope="col">Consumer</th><th scope="col">System</th><th scope="col">Code</th><th scope="col">Reason</th><th scope="col">Letters</th><th scope="col">Waiting</th><th scope="col">Last received</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="groups-empty" class="empty" hidden>No dead letters in this window.</p>
    <fieldset id="group-actions" disabled>
      <legend>Selected group</legend>
      <p id="group-selected">No group selected.</p>
      <div class="row">
        <button type="button" id="group-show">Show its letters</button>
        <button type="button" id="group-retry">Retry group</button>
        <button type="button" id="group-redrive">Redrive group…</button>
      </div>
      <div class="row">
        <label for="group-reason">Reason to park or discard the group</label>
        <input id="group-reason" maxlength="500">
        <button type="button" id="group-park">Park group</button>
        <button type="button" id="group-discard" class="danger">Discard group</button>
      </div>
    </fieldset>
  </section>

  <section aria-labelledby="letters-title" class="card">
    <h2 id="letters-title">Letters</h2>
    <form id="filters" class="filters" aria-label="Filters">
      <label>System <select name="system" id="filter-system"><option value="">any</option></select></label>
      <label>Status <select name="status">
        <option value="">any</option><option>open</option><option>retrying</option><option>parked</option><option>resolved</option><option>discarded</option>
      </select></label>
      <label>Event type <input name="type" maxlength="200"></label>
      <label>Consumer <input name="consumer" maxlength="200"></label>
      <label>KafkaSource <input name="source" maxlength="253"></label>
      <label>Code <input name="code" type="number" min="0" max="999"></label>
      <label>Group <input name="group" maxlength="64"></label>
      <label>Older than (minutes) <input name="olderThanMinutes" type="number" min="0"></label>
      <label>Newer than (minutes) <input name="newerThanMinutes" type="number" min="0"></label>
      <div class="row">
        <button type="submit">Apply filters</button>
        <button type="button" id="filters-clear">Clear filters</button>
      </div>
    </form>
    <table id="letters">
      <thead><tr><th scope="col">Received</th><th scope="col">System</th><th scope="col">Event type</th><th scope="col">Consumer</th><th scope="col">Code</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Attempts</th><th scope="col"><span class="visually-hidden">Open</span></th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="letters-empty" class="empty" hidden>No letters match.</p>
    <button type="button" id="more" hidden>More</button>
  </section>

  <section id="detail" aria-labelledby="detail-title" class="card" hidden>
    <div class="row">
      <h2 id="detail-title">Letter</h2>
      <button type="button" id="detail-close">Close letter</button>
    </div>
    <dl id="detail-fields" class="fields"></dl>
    <h3>Event</h3>
    <p id="mask-note" class="note"></p>
    <button type="button" id="unmask">Show unmasked data</button>
    <p id="event-note" class="hint"></p>
    <pre id="detail-event" tabindex="0" aria-label="Event"></pre>
    <h3>What the consumer answered</h3>
    <pre id="detail-error" tabindex="0" aria-label="Error data"></pre>
    <h3>Attempts</h3>
    <table id="attempts">
      <thead><tr><th scope="col">At</th><th scope="col">Kind</th><th scope="col">Outcome</th><th scope="col">By</th><th scope="col">Code</th><th scope="col">Reason</th></tr></thead>
      <tbody></tbody>
    </table>
    <fieldset id="letter-actions">
      <legend>Actions on this letter</legend>
      <div class="row">
        <button type="button" id="letter-retry">Retry letter</button>
        <button type="button" id="letter-redrive">Redrive letter…</button>
        <button type="button" id="letter-reopen">Reopen letter</button>
      </div>
      <div class="row">
        <label for="letter-reason">Reason to park or discard</label>
        <input id="letter-reason" maxlength="500">
        <button type="button" id="letter-park">Park letter</button>
        <button type="button" id="letter-discard" class="danger">Discard letter</button>
      </div>
    </fieldset>
  </section>

  <section aria-labelledby="tasks-title" class="card">
    <div class="row">
      <h2 id="tasks-title">Redrive tasks</h2>
      <button type="button" id="tasks-refresh">Refresh tasks</button>
    </div>
    <table id="tasks">
      <thead><tr><th scope="col">Started</th><th scope="col">By</th><th scope="col">Selection</th><th scope="col">Status</th><th scope="col">Sent</th><th scope="col">Skipped</th><th scope="col">Total</th><th scope="col"><span class="visually-hidden">Cancel</span></th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="tasks-empty" class="empty" hidden>No redrive tasks yet.</p>
  </section>
</main>

<dialog id="redrive" aria-labelledby="redrive-title">
  <h2 id="redrive-title">Redrive</h2>
  <div id="redrive-problem" class="problem" role="alert" hidden></div>
  <section id="redrive-plan" aria-labelledby="plan-title">
    <h3 id="plan-title">Dry run: what would be sent where</h3>
    <p id="plan-total"></p>
    <ul id="plan-topics" aria-label="Topics"></ul>
    <div id="plan-warnings" class="warnings" hidden>
      <h4>Warnings</h4>
      <ul></ul>
    </div>
    <table id="plan-letters">
      <caption>Letters in the order they would be sent</caption>
      <thead><tr><th scope="col">Letter</th><th scope="col">Topic</th><th scope="col">Key</th><th scope="col">Partition</th><th scope="col">Warning</th></tr></thead>
      <tbody></tbody>
    </table>
    <div class="row">
      <label for="redrive-rate">Rate (records per second)</label>
      <input id="redrive-rate" type="number" min="1" max="500" value="100">
    </div>
  </section>
  <section id="redrive-task" aria-labelledby="task-title" hidden>
    <h3 id="task-title">Progress</h3>
    <progress id="redrive-progress" aria-labelledby="task-title" max="1" value="0"></progress>
    <p id="redrive-progress-text" role="status" aria-live="polite"></p>
  </section>
  <div class="row">
    <button type="button" id="redrive-confirm">Confirm redrive</button>
    <button type="button" id="redrive-cancel-task" hidden>Cancel task</button>
    <button type="button" id="redrive-close">Close</button>
  </div>
</dialog>
</body>
</html>
`;
