"""Who the caller is: the middleware in front of everything (``middleware``), sign-in pages
(``login``), and how routes and callbacks reach the caller and the process's services (``context``)."""
