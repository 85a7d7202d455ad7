"""A member's rights over their data (export, forget) and a workspace erased on uninstall."""
