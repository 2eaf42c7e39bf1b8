package dev.ideproxy.example;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The portal's own sign-in, reduced to a form post of a user name: stands in for whatever the host
 * application really uses. Not for production: there is no password.
 */
@WebServlet("/login")
public class LoginServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String USER = "example.user";

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String user = request.getParameter("user");
        if (user == null || !user.matches("[a-z]{1,32}")) {
            response.sendError(400, "user must be 1 to 32 lower-case letters");
            return;
        }
        if (request.getSession(false) != null) {
            request.changeSessionId(); // no session fixation
        }
        request.getSession(true).setAttribute(USER, user);
        response.setContentType("text/plain;charset=utf-8");
        response.getWriter().println("signed in as " + user);
    }
}
