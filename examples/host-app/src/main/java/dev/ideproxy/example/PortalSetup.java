package dev.ideproxy.example;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.access.AccessDecision;
import dev.ideproxy.config.ConfigSource;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.target.Target;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import jakarta.servlet.http.HttpSession;
import java.util.Optional;

/**
 * How a host application installs ide-proxy: its own configuration source, its own workspace
 * registry as the target resolver, and its own login session as the access policy.
 */
@WebListener
public class PortalSetup implements ServletContextListener {

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Workspaces workspaces = Workspaces.from(context.getInitParameter("example.workspaces"));
        context.setAttribute(Workspaces.class.getName(), workspaces);

        IdeProxy.builder(IdeProxyConfig.from(ConfigSource.standard(context)))
                .targetResolver(id -> workspaces.find(id).map(w -> Target.of(id, w.upstream())))
                .accessPolicy((request, id) -> {
                    HttpSession session = request.getSession(false);
                    String user = session == null ? null : (String) session.getAttribute(LoginServlet.USER);
                    if (user == null) {
                        return AccessDecision.unauthenticated("sign in to the portal first");
                    }
                    Optional<Workspaces.Workspace> workspace = workspaces.find(id);
                    return workspace.isPresent() && !workspace.get().owner().equals(user)
                            ? AccessDecision.forbidden(user, "workspace " + id + " belongs to someone else")
                            : AccessDecision.allow(user);
                })
                .build()
                .install(context);
    }
}
