// MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, …) are macros over library symbols that Swift cannot import as
// values; these functions return them.
#include <mpi.h>

static inline MPI_Comm atelier_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype atelier_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype atelier_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype atelier_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype atelier_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op atelier_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler atelier_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int atelier_mpi_success(void) { return MPI_SUCCESS; }
static inline int atelier_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int atelier_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline void *atelier_mpi_in_place(void) { return MPI_IN_PLACE; }
