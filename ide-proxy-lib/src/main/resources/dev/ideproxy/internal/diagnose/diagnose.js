// ide-proxy's diagnostics page: checks, in this browser, what an IDE behind ide-proxy needs, and
// shows each result as pass or fail with what to do. Plain JavaScript, no framework, no inline code
// (the page's Content-Security-Policy allows scripts from its own origin only). It writes text only
// (textContent), never HTML, so nothing the server or a header says can become markup.
"use strict";

(function () {
    const MAX_SKEW_MS = 30000;
    const TIMEOUT_MS = 10000;

    const page = new URL(location.href);
    page.search = "";
    page.hash = "";
    // The page is <base>.ide-proxy/diagnose, so "diagnose/x" is <base>.ide-proxy/diagnose/x and ".." is <base>.
    const base = new URL("..", page);
    const infoUrl = new URL("diagnose/info", page);
    const echoUrl = new URL("diagnose/echo", page);
    echoUrl.protocol = page.protocol === "https:" ? "wss:" : "ws:";

    const results = {};
    const seenRows = [];

    function workspaceId() {
        const match = /\/__ide\/([^/]+)\//.exec(base.pathname);
        return match ? decodeURIComponent(match[1]) : "?";
    }

    function report(name, status, result, fix) {
        const item = document.getElementById("check-" + name);
        item.dataset.status = status;
        item.querySelector(".result").textContent = result;
        item.querySelector(".fix").textContent = fix || "";
        results[name] = { title: item.querySelector("h2").textContent, status: status, result: result, fix: fix || "" };
    }

    function withTimeout(ms) {
        const controller = new AbortController();
        const timer = setTimeout(function () { controller.abort(); }, ms);
        return { signal: controller.signal, done: function () { clearTimeout(timer); } };
    }

    function normalHost(host, protocol) {
        let h = (host || "").toLowerCase();
        if ((protocol === "http:" && h.endsWith(":80")) || (protocol === "https:" && h.endsWith(":443"))) {
            h = h.substring(0, h.lastIndexOf(":"));
        }
        return h;
    }

    function seconds(ms) {
        return (Math.abs(ms) / 1000).toFixed(1) + " s";
    }

    // ---- the checks

    function checkSecureContext() {
        if (window.isSecureContext) {
            report("secure-context", "pass", "This page is a secure context (" + page.protocol.replace(":", "").toUpperCase()
                + " on " + page.hostname + ").");
        } else {
            report("secure-context", "fail", "This page was opened over plain HTTP on a host that is not localhost, so the"
                + " browser does not treat it as a secure context. Browsers allow service workers, which IDE webviews"
                + " (previews, Markdown, extension panels) need, only in secure contexts: those parts of the IDE stay blank.",
                "Open the IDE through an https:// address. If the portal gives you an http:// link, ask your administrator"
                + " to serve the IDE proxy over HTTPS.");
        }
    }

    async function checkInfo() {
        const timeout = withTimeout(TIMEOUT_MS);
        const sent = Date.now();
        let response;
        try {
            // POST, so that the browser sends its Origin (it sends none on a same-origin GET).
            response = await fetch(infoUrl, { method: "POST", credentials: "same-origin", cache: "no-store",
                redirect: "error", signal: timeout.signal });
        } catch (e) {
            timeout.done();
            const fix = "Reload this page. If it keeps failing, the connection to the IDE server is broken: tell your"
                + " administrator.";
            report("session", "fail", "The proxy did not answer the check (" + e.name + ").", fix);
            return null;
        }
        const received = Date.now();
        timeout.done();
        let info = null;
        if (response.ok) {
            try {
                info = await response.json();
            } catch (e) {
                info = null;
            }
        }
        if (!info || typeof info.session !== "string") {
            report("session", "fail", "The proxy answered the check with HTTP " + response.status + " instead of its report.",
                "Something between this browser and the IDE proxy answers in its place (a login page of a web proxy or"
                + " firewall?). Tell your administrator.");
            return null;
        }
        info.browserTime = (sent + received) / 2;
        info.roundTripMs = received - sent;
        return info;
    }

    function checkSession(info) {
        if (!info) {
            return;
        }
        if (info.session === "valid") {
            report("session", "pass", "Your browser sent a valid session cookie for workspace " + workspaceId() + ".");
        } else if (info.session === "unavailable") {
            report("session", "fail", "The proxy cannot check sessions right now: its session store does not answer.",
                "Wait a few seconds and reload this page. If it lasts, tell your administrator.");
        } else {
            report("session", "fail", "Your browser sent no valid session cookie for workspace " + workspaceId() + ". The"
                + " session may have expired or been ended, or the browser did not send the cookie: cookies blocked for"
                + " this site, the IDE shown inside another site's frame where third-party cookies are blocked, or this page"
                + " opened on another host name than the IDE link used.",
                "Open the IDE again from the portal, then come back to this page (add .ide-proxy/diagnose to the IDE's"
                + " address). If the session is lost again at once, allow cookies for this site.");
        }
    }

    function checkClock(info) {
        if (!info || typeof info.serverTime !== "number") {
            report("clock", "skipped", "Not checked: the proxy did not answer.");
            return;
        }
        // Positive: this computer's clock is ahead. The server's time is taken as of the middle of the round trip.
        const skew = info.browserTime - info.serverTime;
        const direction = skew > 0 ? "ahead of" : "behind";
        if (Math.abs(skew) <= MAX_SKEW_MS) {
            report("clock", "pass", "This computer's clock and the proxy's agree within " + seconds(skew)
                + " (measured over " + info.roundTripMs + " ms).");
        } else {
            report("clock", "fail", "This computer's clock is " + seconds(skew) + " " + direction + " the proxy's. A wrong"
                + " clock breaks HTTPS certificate checks and sign-ins, and confuses IDEs (file times, extensions).",
                "Set this computer's date, time and time zone to update automatically, then reload.");
        }
    }

    function checkRequest(info) {
        const table = document.getElementById("seen");
        if (!info || !info.request) {
            report("request", "skipped", "Not checked: the proxy shows what it saw of the request only with a valid session"
                + " (see above).");
            return;
        }
        const seen = info.request;
        const rows = [
            ["Host", seen.host], ["Origin", seen.origin], ["Scheme (at the proxy)", seen.scheme],
            ["HTTPS as the proxy concludes", String(seen.browserUsedHttps)],
            ["Forwarding headers believed", String(seen.forwardedHeadersTrusted)]
        ];
        const forwarded = seen.forwardedHeaders || {};
        Object.keys(forwarded).forEach(function (name) { rows.push([name, forwarded[name]]); });
        if (Object.keys(forwarded).length === 0) {
            rows.push(["Forwarding headers", "(none)"]);
        }
        const body = document.createElement("tbody");
        rows.forEach(function (row) {
            const tr = document.createElement("tr");
            const th = document.createElement("th");
            th.textContent = row[0];
            const td = document.createElement("td");
            td.textContent = row[1] === null || row[1] === undefined ? "(none)" : String(row[1]);
            tr.appendChild(th);
            tr.appendChild(td);
            body.appendChild(tr);
            seenRows.push(row[0] + ": " + td.textContent);
        });
        table.replaceChildren(body);

        const problems = [];
        const fixes = [];
        if (normalHost(seen.host, page.protocol) !== normalHost(page.host, page.protocol)) {
            problems.push("The proxy saw the host " + seen.host + ", but this browser uses " + page.host + ": a reverse"
                + " proxy in front of it rewrites the Host header, so the IDE's WebSockets are refused and its redirects"
                + " go astray.");
            fixes.push("Have the reverse proxy pass the browser's Host header (nginx: proxy_set_header Host $host;).");
        }
        if (page.protocol === "https:" && !seen.browserUsedHttps) {
            problems.push("This browser uses HTTPS, but the proxy believes the request came over plain HTTP: the TLS"
                + " terminator in front of it does not send X-Forwarded-Proto: https, or its address is not among the"
                + " proxy's trusted proxies. The session cookie is then not marked Secure, and the IDE may build http://"
                + " links.");
            fixes.push("Have the TLS terminator send X-Forwarded-Proto and list its address in"
                + " ide-proxy.forwarded.trusted-proxies (or set ide-proxy.cookie.secure=always).");
        }
        if (seen.webSocketOriginAllowed === false) {
            problems.push("The proxy would refuse WebSockets from this page: its Origin " + (seen.origin || "(none)")
                + " is not the host the proxy saw (" + seen.host + ").");
            fixes.push("Pass the browser's Host header through every proxy in front, or list this origin in"
                + " ide-proxy.websocket.allowed-origins.");
        }
        if (problems.length === 0) {
            report("request", "pass", "Host, scheme and Origin reached the proxy as this browser sent them ("
                + page.protocol.replace(":", "") + "://" + page.host + ").");
        } else {
            report("request", "fail", problems.join(" "), fixes.join(" "));
        }
    }

    function checkWebSocket(info) {
        if (!info || info.session !== "valid") {
            report("websocket", "skipped", "Not checked: the proxy answers WebSockets only with a valid session (see above).");
            return Promise.resolve();
        }
        const blocked = "Something between this browser and the IDE proxy refuses WebSocket connections: a company or"
            + " antivirus web proxy, a firewall, or a reverse proxy or load balancer in front of the IDE proxy that does not"
            + " pass WebSocket upgrades on. The IDE cannot work without WebSockets.";
        const blockedFix = "Try another network (for example without VPN) to confirm. Ask your network administrator to"
            + " allow WebSockets to " + page.host + "; an administrator of the reverse proxy must forward the Upgrade and"
            + " Connection headers (nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;"
            + " proxy_set_header Connection \"upgrade\";).";
        return new Promise(function (resolve) {
            const nonce = "ide-proxy-echo-" + Math.random().toString(36).substring(2);
            let opened = false;
            let settled = false;
            let sentAt = 0;
            let socket;
            function settle(status, result, fix) {
                if (settled) {
                    return;
                }
                settled = true;
                clearTimeout(timer);
                report("websocket", status, result, fix);
                try {
                    socket.close();
                } catch (e) {
                    // already closed
                }
                resolve();
            }
            const timer = setTimeout(function () {
                if (opened) {
                    settle("fail", "The WebSocket opened, but the test message did not come back within "
                        + seconds(TIMEOUT_MS) + ". Something on the way holds back or drops WebSocket messages.", blockedFix);
                } else {
                    settle("fail", "The WebSocket did not open within " + seconds(TIMEOUT_MS) + ". " + blocked, blockedFix);
                }
            }, TIMEOUT_MS);
            try {
                socket = new WebSocket(echoUrl.href);
            } catch (e) {
                settle("fail", "This browser refused to open a WebSocket (" + e.name + ").", blockedFix);
                return;
            }
            socket.onopen = function () {
                opened = true;
                sentAt = performance.now();
                socket.send(nonce);
            };
            socket.onmessage = function (event) {
                if (event.data === nonce) {
                    settle("pass", "A message went to the proxy and back over a WebSocket in "
                        + Math.round(performance.now() - sentAt) + " ms.");
                } else {
                    settle("fail", "A WebSocket message came back altered: something on the way rewrites WebSocket traffic.",
                        blockedFix);
                }
            };
            socket.onclose = function (event) {
                if (opened) {
                    settle("fail", "The WebSocket opened but closed (code " + event.code + ") before the test message came"
                        + " back. Something on the way cuts WebSocket connections.", blockedFix);
                } else if (info.request && info.request.webSocketOriginAllowed === false) {
                    settle("fail", "The proxy refused the WebSocket: this page's origin does not match the host it saw"
                        + " (see \"What the proxy saw\").", "Fix the Host header as described above.");
                } else {
                    settle("fail", "The WebSocket could not be opened. " + blocked, blockedFix);
                }
            };
        });
    }

    async function checkUpstream(info) {
        if (!info || info.session !== "valid") {
            report("upstream", "skipped", "Not checked: the workspace is reached only with a valid session (see above).");
            return;
        }
        const timeout = withTimeout(2 * TIMEOUT_MS);
        const started = performance.now();
        let response;
        try {
            // The IDE's own first request, through every proxy on the way; headers only, the body is dropped.
            response = await fetch(base, { method: "GET", credentials: "same-origin", cache: "no-store",
                redirect: "manual", signal: timeout.signal });
        } catch (e) {
            timeout.done();
            report("upstream", "fail", e.name === "AbortError"
                ? "The workspace did not answer within " + seconds(2 * TIMEOUT_MS) + "."
                : "The request to the workspace failed in this browser (" + e.name + ").",
                "Reload this page. If it keeps failing, the workspace may be stopped or overloaded: restart it from the"
                + " portal, or tell your administrator.");
            return;
        }
        const ttfb = Math.round(performance.now() - started);
        timeout.done();
        if (response.body) {
            response.body.cancel().catch(function () { });
        }
        const status = response.status;
        const answered = response.type === "opaqueredirect" ? "a redirect" : "HTTP " + status;
        if (response.type === "opaqueredirect" || (status < 500 && status !== 401 && status !== 404 && status !== 429)) {
            report("upstream", "pass", "The workspace answered (" + answered + ") in " + ttfb + " ms, time to first byte.");
        } else if (status === 401) {
            report("upstream", "fail", "The proxy refused the request to the workspace: the session is not valid (HTTP 401).",
                "Open the IDE again from the portal.");
        } else if (status === 404) {
            report("upstream", "fail", "The workspace's address answered HTTP 404: the workspace may not exist (any more).",
                "Check in the portal that the workspace exists, and open it again from there.");
        } else if (status === 429 || status === 503) {
            report("upstream", "fail", "The proxy is busy or cannot decide right now (" + answered + ").",
                "Wait a few seconds and reload this page.");
        } else if (status === 504) {
            report("upstream", "fail", "The workspace did not answer the proxy in time (HTTP 504, after " + ttfb + " ms).",
                "The workspace may be starting or overloaded: wait a minute, or restart it from the portal.");
        } else if (status === 502) {
            report("upstream", "fail", "The proxy cannot reach the workspace (HTTP 502): it is stopped, still starting, or"
                + " not where the proxy looks for it.",
                "Start the workspace from the portal and reload this page. If it is running, tell your administrator.");
        } else {
            report("upstream", "fail", "The workspace answered with an error (" + answered + ") in " + ttfb + " ms.",
                "Restart the workspace from the portal; if the error stays, tell your administrator.");
        }
    }

    function finish() {
        const names = Object.keys(results);
        const passed = names.filter(function (n) { return results[n].status === "pass"; }).length;
        const summary = document.getElementById("summary");
        summary.textContent = passed === names.length
            ? "All " + names.length + " checks passed."
            : passed + " of " + names.length + " checks passed. Start with the first one that is not green.";
        summary.dataset.done = "true";
        const lines = ["ide-proxy connection check, " + new Date().toISOString(),
            "page: " + page.href, "browser: " + navigator.userAgent, ""];
        names.forEach(function (n) {
            const r = results[n];
            lines.push("[" + r.status.toUpperCase() + "] " + r.title + ": " + r.result);
        });
        if (seenRows.length > 0) {
            lines.push("", "seen by the proxy:");
            seenRows.forEach(function (row) { lines.push("  " + row); });
        }
        document.getElementById("report").textContent = lines.join("\n");
    }

    async function main() {
        document.getElementById("workspace").textContent = workspaceId();
        checkSecureContext();
        const info = await checkInfo();
        checkSession(info);
        checkRequest(info);
        checkClock(info);
        await checkWebSocket(info);
        await checkUpstream(info);
        // Keep the list's order in the report.
        const ordered = {};
        document.querySelectorAll(".check").forEach(function (item) {
            const name = item.id.substring("check-".length);
            if (results[name]) {
                ordered[name] = results[name];
            }
        });
        Object.keys(results).forEach(function (n) { delete results[n]; });
        Object.assign(results, ordered);
        finish();
    }

    main().catch(function (e) {
        const summary = document.getElementById("summary");
        summary.textContent = "The checks stopped with an error: " + e;
        summary.dataset.done = "true";
    });
}());
