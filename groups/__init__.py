"""Groups, members, memberships and coordinators: who belongs where, in which role."""
